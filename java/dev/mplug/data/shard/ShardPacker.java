package dev.mplug.data.shard;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.MediaRef;
import dev.mplug.data.dataset.Sample;
import dev.mplug.data.proto.Record;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Converts a dataset into record shards ({@code shard-00000.mplugrec}, ...) of at most {@code recordsPerShard}
 * records each, in dataset order. Media are stored as the original file bytes. Unusable samples (bad entries,
 * missing or empty media files) are handed to {@code onBad} and left out.
 */
public final class ShardPacker {
  /** What a packing run did. */
  public record Result(int records, int bad, List<Path> shards) {}

  private ShardPacker() {}

  public static Result pack(AnnotationDataset<? extends Sample> dataset, Path outDir, int recordsPerShard,
      Consumer<BadSampleException> onBad) {
    if (recordsPerShard < 1) {
      throw new IllegalArgumentException("records per shard must be >= 1, got " + recordsPerShard);
    }
    prepare(outDir);
    List<Path> shards = new ArrayList<>();
    ShardWriter writer = null;
    int records = 0;
    int bad = 0;
    try {
      for (int i = 0; i < dataset.size(); i++) {
        Record record;
        try {
          Sample s = dataset.get(i);
          List<byte[]> media = new ArrayList<>(s.media().size());
          for (String name : s.media()) media.add(new MediaRef.File(name, dataset.resolve(name)).bytes());
          record = RecordCodec.encode(s, dataset.source(i), media);
        } catch (BadSampleException e) {
          bad++;
          onBad.accept(e);
          continue;
        }
        if (writer == null || writer.count() == recordsPerShard) {
          if (writer != null) writer.close();
          writer = new ShardWriter(outDir.resolve(String.format("shard-%05d%s", shards.size(), ShardFormat.SUFFIX)));
          shards.add(writer.file());
        }
        writer.write(record);
        records++;
      }
    } finally {
      if (writer != null) writer.close();
    }
    return new Result(records, bad, List.copyOf(shards));
  }

  private static void prepare(Path outDir) {
    try {
      Files.createDirectories(outDir);
      try (Stream<Path> existing = Files.list(outDir)) {
        if (existing.anyMatch(p -> p.getFileName().toString().endsWith(ShardFormat.SUFFIX))) {
          throw new IllegalArgumentException("output directory " + outDir + " already holds shards; "
              + "choose an empty directory");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare output directory " + outDir + ": " + e.getMessage(), e);
    }
  }
}
