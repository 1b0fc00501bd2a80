package dev.mplug.cli;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.Sample;
import dev.mplug.data.dataset.Task;
import dev.mplug.data.shard.ShardPacker;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mplug pack}: a dataset in an official annotation format to record shards. */
@Command(name = "pack", mixinStandardHelpOptions = true,
    description = "Convert a dataset in one of the official annotation formats into checksummed record shards "
        + "(images and videos stored as the original file bytes, not re-encoded). Bad samples are reported one by "
        + "one and left out.")
public final class PackCommand implements Callable<Integer> {
  @Option(names = "--task", required = true, description = "Annotation format: ${COMPLETION-CANDIDATES}.",
      completionCandidates = TaskNames.class)
  String task;

  @Option(names = "--ann", required = true, description = "Annotation file (JSON array, or JSON Lines for video).")
  Path ann;

  @Option(names = "--root", required = true, description = "Directory the image/video paths are relative to.")
  Path root;

  @Option(names = "--out", required = true, description = "Output directory for shard-NNNNN.mplugrec files.")
  Path out;

  @Option(names = "--records-per-shard", defaultValue = "1000",
      description = "Records per shard (default ${DEFAULT-VALUE}).")
  int recordsPerShard;

  @Option(names = "--max-bad-fraction", defaultValue = "0.01",
      description = "Fail when more than this fraction of the samples is bad (default ${DEFAULT-VALUE}).")
  double maxBadFraction;

  @Override
  public Integer call() {
    if (!(maxBadFraction >= 0 && maxBadFraction <= 1)) {
      throw new IllegalArgumentException("--max-bad-fraction must be in [0, 1], got " + maxBadFraction);
    }
    Task t = Task.named(task);
    AnnotationDataset<Sample> dataset = AnnotationDataset.read(t, ann, root);
    ShardPacker.Result r = ShardPacker.pack(dataset, out, recordsPerShard,
        e -> System.err.println("mplug pack: skipped bad sample " + e.source() + ": " + e.reason()));
    System.out.printf("packed %d %s record(s) into %d shard(s) in %s; %d bad sample(s) skipped%n", r.records(), t,
        r.shards().size(), out, r.bad());
    int total = r.records() + r.bad();
    if (total > 0 && r.bad() > maxBadFraction * total) {
      throw new IllegalArgumentException(String.format("%d of %d samples (%.1f%%) were bad, more than "
          + "--max-bad-fraction %.3f allows; the shards written are incomplete", r.bad(), total,
          100.0 * r.bad() / total, maxBadFraction));
    }
    return 0;
  }

  /** The task names for the help text. */
  static final class TaskNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(Task.values()).map(Task::cliName).iterator();
    }
  }
}
