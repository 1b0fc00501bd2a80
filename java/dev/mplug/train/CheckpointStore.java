package dev.mplug.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.profile.Range;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A folder of checkpoints {@code step-000000123/}, each written atomically and kept only while useful.
 *
 * <p>Writing: files go into {@code step-N.tmp/}, each is fsynced, then a {@code MANIFEST.json} (names, sizes,
 * CRC32C) is written and fsynced, the folder renamed to {@code step-N/} and the parent fsynced. A checkpoint is valid
 * only with a manifest whose files all match, so a process killed mid-write or a full disk leaves at most a
 * {@code .tmp} folder (removed on the next open) and never damages an earlier checkpoint. After a write the store keeps
 * the newest {@code keepLast} checkpoints plus the best one.
 *
 * <p>The best: a checkpoint saved with a {@link Score} (a metric where higher is better) becomes the best when no
 * valid best of the same metric exists or its value is strictly higher than the best's (ties keep the earlier one; NaN
 * never wins). {@code BEST} in the folder names it: {@code {"checkpoint": "step-000000400", "metric": "r_mean",
 * "value": 71.5}}. A best of another metric (the config changed between runs) is replaced by the first scored one.
 */
public final class CheckpointStore {
  public static final String MANIFEST = "MANIFEST.json";
  /** The file naming the best checkpoint. */
  public static final String BEST = "BEST";
  private static final String PREFIX = "step-";
  private static final String TMP = ".tmp";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A checkpoint's value by {@code metric}; higher is better. */
  public record Score(String metric, double value) {
    public Score {
      if (metric == null || metric.isBlank()) throw new IllegalArgumentException("a score needs a metric name");
    }
  }

  /** The best checkpoint as {@code BEST} names it. */
  public record Best(Path checkpoint, Score score) {}

  /** Writes the files of one checkpoint into the given (temporary) folder. */
  @FunctionalInterface
  public interface Writer {
    void write(Path dir) throws IOException;
  }

  private final Path root;
  private final int keepLast;

  public CheckpointStore(Path root, int keepLast) {
    if (keepLast < 1) throw new IllegalArgumentException("keep_last must be >= 1, got " + keepLast);
    this.root = root;
    this.keepLast = keepLast;
    try {
      Files.createDirectories(root);
      if (!Files.isWritable(root)) throw new IOException("not writable");
      try (Stream<Path> s = Files.list(root)) {
        for (Path p : s.filter(p -> p.getFileName().toString().endsWith(TMP)).toList()) deleteTree(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("checkpoint folder " + root + " is unusable: " + e.getMessage(), e);
    }
  }

  public Path root() {
    return root;
  }

  /** Writes checkpoint {@code step} atomically and prunes old ones; returns its folder. */
  public Path save(long step, Writer writer) {
    return save(step, null, writer);
  }

  /**
   * As {@link #save(long, Writer)}; with a {@code score} (may be null) the new checkpoint becomes the best when it
   * beats the current best, before old ones are pruned.
   */
  public Path save(long step, Score score, Writer writer) {
    String name = name(step);
    Path tmp = root.resolve(name + TMP);
    Path dst = root.resolve(name);
    try (Range r = Range.open("checkpoint_write")) {
      deleteTree(tmp);
      Files.createDirectories(tmp);
      writer.write(tmp);
      ObjectNode manifest = JSON.createObjectNode().put("step", step);
      ObjectNode files = manifest.putObject("files");
      try (Stream<Path> s = Files.list(tmp)) {
        for (Path f : s.sorted().toList()) {
          fsync(f);
          files.putObject(f.getFileName().toString()).put("size", Files.size(f)).put("crc32c", crc(f));
        }
      }
      Path m = tmp.resolve(MANIFEST);
      Files.write(m, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
      fsync(m);
      fsyncDir(tmp);
      if (Files.exists(dst)) {
        Path old = root.resolve(name + ".replaced" + TMP);
        move(dst, old);
        move(tmp, dst);
        deleteTree(old);
      } else {
        move(tmp, dst);
      }
      fsyncDir(root);
    } catch (IOException | UncheckedIOException e) {
      try {
        deleteTree(tmp);
      } catch (IOException ignored) {
        // the next open removes it
      }
      String previous = latestValid().map(p -> p.getFileName().toString()).orElse("none");
      throw new UncheckedIOException("writing checkpoint " + dst + " failed: " + e.getMessage()
          + " (the previous checkpoint, " + previous + ", is intact)",
          e instanceof IOException io ? io : new IOException(e));
    }
    if (score != null && beats(score, best())) markBest(step, score.metric(), score.value());
    prune();
    return dst;
  }

  private static boolean beats(Score score, Optional<Best> best) {
    if (Double.isNaN(score.value())) return false;
    if (best.isEmpty() || !best.get().score().metric().equals(score.metric())) return true;
    return score.value() > best.get().score().value();
  }

  /** Marks {@code step} as the best checkpoint (by {@code metric}); it survives pruning. */
  public void markBest(long step, String metric, double value) {
    try {
      Path tmp = root.resolve(BEST + TMP);
      Files.write(tmp, JSON.writeValueAsBytes(JSON.createObjectNode().put("checkpoint", name(step))
          .put("metric", metric).put("value", value)));
      fsync(tmp);
      move(tmp, root.resolve(BEST));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot mark the best checkpoint in " + root + ": " + e.getMessage(), e);
    }
  }

  /** The best checkpoint and its score, if one was marked and is still valid. */
  public Optional<Best> best() {
    Path f = root.resolve(BEST);
    if (!Files.exists(f)) return Optional.empty();
    try {
      JsonNode best = JSON.readTree(f.toFile());
      String name = best.path("checkpoint").asText();
      if (!name.startsWith(PREFIX) || name.contains("/")) return Optional.empty();
      Path p = root.resolve(name);
      if (validate(p).isPresent() || !best.path("metric").isTextual()) return Optional.empty();
      return Optional.of(new Best(p, new Score(best.path("metric").asText(), best.path("value").asDouble(Double.NaN))));
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Valid checkpoints, oldest first. */
  public List<Path> list() {
    return candidates().stream().filter(p -> validate(p).isEmpty()).toList();
  }

  /** The newest valid checkpoint. */
  public Optional<Path> latestValid() {
    List<Path> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /**
   * The checkpoints newer than {@link #latestValid()} that were refused, each with the reason, newest first (e.g.
   * "step-000000040: model.safetensors fails its CRC32C"); empty when the newest checkpoint is valid.
   */
  public List<String> refusedNewerThanLatestValid() {
    List<Path> all = candidates();
    List<String> out = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0; i--) {
      Optional<String> why = validate(all.get(i));
      if (why.isEmpty()) break;
      out.add(all.get(i).getFileName() + ": " + why.get());
    }
    return out;
  }

  /**
   * Where {@code --resume} continues: the newest complete checkpoint; each newer damaged one is passed to {@code warn}
   * with its reason. None at all is an error naming the folder and the refused ones.
   */
  public Path resumePoint(Consumer<String> warn) {
    List<String> refused = refusedNewerThanLatestValid();
    Path latest = latestValid().orElseThrow(() -> new IllegalArgumentException("--resume: no complete checkpoint in "
        + root + (refused.isEmpty() ? "" : " (refused " + String.join("; ", refused) + ")")));
    for (String r : refused) warn.accept("warning: --resume skips the damaged checkpoint " + r);
    return latest;
  }

  /** Why {@code dir} is not a complete checkpoint (empty when it is). */
  public static Optional<String> validate(Path dir) {
    Path m = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(m)) return Optional.of("no " + MANIFEST + " (incomplete or not a checkpoint)");
    try {
      JsonNode files = JSON.readTree(m.toFile()).path("files");
      if (!files.isObject() || files.isEmpty()) return Optional.of(MANIFEST + " lists no files");
      for (var it = files.fields(); it.hasNext(); ) {
        var e = it.next();
        Path f = dir.resolve(e.getKey());
        if (!Files.isRegularFile(f)) return Optional.of(e.getKey() + " is missing");
        long size = Files.size(f);
        if (size != e.getValue().path("size").asLong(-1)) {
          return Optional.of(e.getKey() + " has " + size + " bytes, the manifest says " + e.getValue().path("size"));
        }
        if (crc(f) != e.getValue().path("crc32c").asLong(-1)) return Optional.of(e.getKey() + " fails its CRC32C");
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("unreadable " + MANIFEST + ": " + e.getMessage());
    }
  }

  /** Throws a clear error when {@code dir} cannot be resumed from. */
  public static void requireValid(Path dir) {
    validate(dir).ifPresent(why -> {
      throw new IllegalArgumentException("checkpoint " + dir + " is corrupted or partial: " + why);
    });
  }

  private List<Path> candidates() {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(root, PREFIX + "*")) {
      for (Path p : s) {
        String n = p.getFileName().toString();
        if (Files.isDirectory(p) && !n.endsWith(TMP)) out.add(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list checkpoints in " + root + ": " + e.getMessage(), e);
    }
    out.sort(Comparator.comparing(p -> p.getFileName().toString()));
    return out;
  }

  private void prune() {
    List<Path> valid = list();
    Optional<Path> best = best().map(Best::checkpoint);
    for (int i = 0; i < valid.size() - keepLast; i++) {
      Path p = valid.get(i);
      if (best.isPresent() && best.get().equals(p)) continue;
      try {
        deleteTree(p);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove old checkpoint " + p + ": " + e.getMessage(), e);
      }
    }
  }

  static String name(long step) {
    return PREFIX + String.format("%09d", step);
  }

  static long crc(Path f) throws IOException {
    CRC32C crc = new CRC32C();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(f)) {
      for (int n; (n = in.read(buf)) > 0; ) crc.update(buf, 0, n);
    }
    return crc.getValue();
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static void fsync(Path f) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  private static void fsyncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // some file systems refuse to open directories; the rename is still atomic there
    }
  }

  /** Deletes a file or a folder with everything in it (nothing when absent). */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
    }
  }
}
