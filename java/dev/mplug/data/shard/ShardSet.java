package dev.mplug.data.shard;

import dev.mplug.data.dataset.Dataset;
import dev.mplug.data.proto.Record;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * All shard files of a directory ({@code *.mplugrec}, in name order) as one indexed sequence of records: global index
 * i maps to (shard, local index) by binary search over the shard sizes.
 */
public final class ShardSet implements Dataset<Record>, AutoCloseable {
  private final Path dir;
  private final List<ShardReader> shards;
  private final long[] starts;    // global index of each shard's first record, plus the total at the end

  private ShardSet(Path dir, List<ShardReader> shards) {
    this.dir = dir;
    this.shards = List.copyOf(shards);
    this.starts = new long[shards.size() + 1];
    for (int s = 0; s < shards.size(); s++) starts[s + 1] = starts[s] + shards.get(s).size();
    if (starts[shards.size()] > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(dir + " holds more than 2^31 - 1 records");
    }
  }

  /** Opens every shard in {@code dir}. */
  public static ShardSet open(Path dir) {
    if (!Files.isDirectory(dir)) throw new IllegalArgumentException("shard directory " + dir + " does not exist");
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.getFileName().toString().endsWith(ShardFormat.SUFFIX)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    if (files.isEmpty()) throw new IllegalArgumentException("no *" + ShardFormat.SUFFIX + " shard files in " + dir);
    List<ShardReader> readers = new ArrayList<>();
    try {
      for (Path f : files) readers.add(ShardReader.open(f));
    } catch (RuntimeException e) {
      readers.forEach(ShardReader::close);
      throw e;
    }
    return new ShardSet(dir, readers);
  }

  @Override
  public int size() {
    return (int) starts[shards.size()];
  }

  @Override
  public Record get(int index) {
    int s = shardOf(index);
    return shards.get(s).get((int) (index - starts[s]));
  }

  @Override
  public String source(int index) {
    int s = shardOf(index);
    return shards.get(s).source((int) (index - starts[s]));
  }

  public List<ShardReader> shards() {
    return shards;
  }

  /** Problems of shards whose index could not be used. */
  public List<String> problems() {
    return shards.stream().flatMap(s -> s.problem().stream()).toList();
  }

  public Path dir() {
    return dir;
  }

  private int shardOf(int index) {
    if (index < 0 || index >= size()) {
      throw new IndexOutOfBoundsException("record " + index + " of " + size() + " in " + dir);
    }
    int lo = 0;
    int hi = shards.size() - 1;
    while (lo < hi) {                       // the last shard whose start <= index
      int mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= index) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  @Override
  public void close() {
    shards.forEach(ShardReader::close);
  }
}
