package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
  @TempDir Path tmp;

  private static CheckpointStore.Writer files(String content) {
    return dir -> {
      Files.writeString(dir.resolve("model.bin"), content);
      Files.writeString(dir.resolve("state.json"), "{\"content\": \"" + content + "\"}");
    };
  }

  @Test
  void keepsTheLastKAndTheBest() {
    var store = new CheckpointStore(tmp, 2);
    for (long step = 1; step <= 5; step++) {
      store.save(step * 10, files("s" + step));
      if (step == 2) store.markBest(20, "r@1", 0.9);
    }
    List<String> names = store.list().stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of("step-000000020", "step-000000040", "step-000000050"), names);
    assertEquals("step-000000050", store.latestValid().orElseThrow().getFileName().toString());
    assertEquals("step-000000020", store.best().orElseThrow().checkpoint().getFileName().toString());
  }

  @Test
  void scoredSavesKeepTheHighestAcrossPruningAndAReopenedStore() throws IOException {
    var store = new CheckpointStore(tmp, 2);
    double[] values = {10, 30, 25, 30, Double.NaN, 5};   // the tie (step 40) and NaN (step 50) do not win
    for (int i = 0; i < values.length; i++) {
      long step = (i + 1) * 10L;
      store.save(step, new CheckpointStore.Score("r_mean", values[i]), files("s" + step));
    }
    List<String> names = store.list().stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of("step-000000020", "step-000000050", "step-000000060"), names, "last 2 + the best");
    CheckpointStore.Best best = store.best().orElseThrow();
    assertEquals("step-000000020", best.checkpoint().getFileName().toString());
    assertEquals(new CheckpointStore.Score("r_mean", 30), best.score());
    assertEquals("{\"checkpoint\":\"step-000000020\",\"metric\":\"r_mean\",\"value\":30.0}",
        Files.readString(tmp.resolve(CheckpointStore.BEST)));
    // a new process (e.g. --resume) continues the comparison from BEST
    var reopened = new CheckpointStore(tmp, 2);
    reopened.save(70, new CheckpointStore.Score("r_mean", 31), files("s70"));
    assertEquals("step-000000070", reopened.best().orElseThrow().checkpoint().getFileName().toString());
    assertFalse(Files.exists(tmp.resolve("step-000000020")), "the former best is pruned once beaten");
    // another metric (the config changed) replaces a best it cannot be compared with
    reopened.save(80, new CheckpointStore.Score("mlm_accuracy", 1), files("s80"));
    assertEquals(new CheckpointStore.Score("mlm_accuracy", 1), reopened.best().orElseThrow().score());
  }

  @Test
  void aFailingWriteLeavesThePreviousCheckpointIntact() throws IOException {
    var store = new CheckpointStore(tmp, 3);
    Path good = store.save(1, files("good"));
    var e = assertThrows(UncheckedIOException.class, () -> store.save(2, dir -> {
      Files.writeString(dir.resolve("model.bin"), "half");
      throw new IOException("No space left on device");
    }));
    assertTrue(e.getMessage().contains("No space left on device") && e.getMessage().contains("step-000000001"),
        e.getMessage());
    assertEquals(good, store.latestValid().orElseThrow());
    assertEquals("good", Files.readString(good.resolve("model.bin")));
    try (var s = Files.list(tmp)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary folder removed");
    }
  }

  @Test
  void corruptedOrPartialCheckpointsAreRejectedWithTheReason() throws IOException {
    var store = new CheckpointStore(tmp, 3);
    Path one = store.save(1, files("one"));
    Path two = store.save(2, files("two"));
    Files.writeString(two.resolve("model.bin"), "twX");                  // same size, different bytes
    assertEquals(one, store.latestValid().orElseThrow(), "the corrupted newer one is skipped");
    var e = assertThrows(IllegalArgumentException.class, () -> CheckpointStore.requireValid(two));
    assertTrue(e.getMessage().contains("model.bin fails its CRC32C"), e.getMessage());
    Files.delete(one.resolve(CheckpointStore.MANIFEST));
    e = assertThrows(IllegalArgumentException.class, () -> CheckpointStore.requireValid(one));
    assertTrue(e.getMessage().contains("incomplete"), e.getMessage());
  }

  /** A process killed while writing leaves the earlier checkpoint as the latest valid one. */
  @Test
  void aProcessKilledWhileWritingDamagesNothing() throws Exception {
    Path root = tmp.resolve("ckpt");
    new CheckpointStore(root, 3).save(1, files("before"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        SlowCheckpointWriter.class.getName(), root.toString())
        .redirectErrorStream(true).start();
    // wait until the child is inside the write (it prints a line), then kill it hard
    String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
    assertEquals("writing", line);
    p.destroyForcibly();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertTrue(Files.exists(root.resolve("step-000000002.tmp")), "the child died mid-write");
    var store = new CheckpointStore(root, 3);
    assertEquals("step-000000001", store.latestValid().orElseThrow().getFileName().toString());
    assertEquals("before", Files.readString(store.latestValid().orElseThrow().resolve("model.bin")));
    assertFalse(Files.exists(root.resolve("step-000000002.tmp")), "the leftover is cleaned on open");
  }

  /** Child process for the kill test: starts checkpoint 2 and hangs in the middle of writing it. */
  public static final class SlowCheckpointWriter {
    public static void main(String[] args) throws Exception {
      new CheckpointStore(Path.of(args[0]), 3).save(2, dir -> {
        Files.writeString(dir.resolve("model.bin"), "partial");
        System.out.println("writing");
        System.out.flush();
        try {
          Thread.sleep(60_000);
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
      });
    }
  }
}
