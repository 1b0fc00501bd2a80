package dev.mplug.cli;

import dev.mplug.dist.DistributedEnvironment;
import dev.mplug.profile.ChromeTrace;
import dev.mplug.profile.Profiler;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Supplier;
import picocli.CommandLine.Option;

/**
 * {@code --profile FILE} of the training commands ({@code pretrain}, {@code finetune}, {@code demo}): the run's ranges
 * (data wait, forward per module, each loss, backward, optimizer step, all-reduce, checkpoint writes, the loader
 * workers' batches) as a Chrome trace, for ui.perfetto.dev. Each rank of a multi-process run writes its own file,
 * {@code FILE} with {@code .rankN} before the extension.
 */
final class ProfileOption {
  @Option(names = "--profile", paramLabel = "FILE", description = "Write a Chrome trace of the run (data wait, "
      + "forward per module, losses, backward, optimizer step, all-reduce, checkpoint writes) to FILE, for "
      + "https://ui.perfetto.dev; each rank of a multi-process run writes FILE.rankN.")
  Path file;

  /** Runs {@code job}, recorded into the trace when {@code --profile} was given, then says where the trace is. */
  <T> T record(String command, PrintStream out, Supplier<T> job) {
    if (file == null) return job.get();
    DistributedEnvironment env = DistributedEnvironment.fromEnvironment();
    Path target = env.distributed() ? forRank(file, env.rank()) : file;
    String process = "mplug " + command + (env.distributed() ? ", rank " + env.rank() : "");
    ChromeTrace trace = Profiler.startTrace(target, process);
    T result;
    try (trace) {   // a failed run's trace is written too: it shows where the run was
      result = job.get();
    }
    out.println("profile: " + trace.ranges() + " ranges in " + target + " (open it in https://ui.perfetto.dev)");
    return result;
  }

  /** {@code trace.json} -> {@code trace.rank1.json}; a name without an extension gets {@code .rank1} appended. */
  static Path forRank(Path file, int rank) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String ranked = dot > 0 ? name.substring(0, dot) + ".rank" + rank + name.substring(dot) : name + ".rank" + rank;
    return file.resolveSibling(ranked);
  }
}
