package dev.mplug.cli;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.dist.DistributedEnvironment;
import dev.mplug.dist.DistributedGroup;
import dev.mplug.dist.Launcher;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.pretrain.Objectives;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainingTask;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.Progress;
import dev.mplug.train.Trainer;
import dev.mplug.train.TrainerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code mplug bench --nproc N}: data-parallel scaling on this machine. The same pretraining step (synthetic batch,
 * all objectives, fp32) runs as 1 rank x 1 thread and as N ranks x 1 thread, each arm started by the launcher as
 * separate processes; the table gives the global samples/s of each and the speed-up, and the N-rank arm also times an
 * all-reduce of the model's whole gradient (fp32) through Gloo.
 */
final class DataParallelBench {
  private static final Pattern STEP = Pattern.compile("dp-bench samples_per_second=([0-9.]+) seconds_per_step=([0-9.]+)");
  private static final Pattern ALLREDUCE = Pattern.compile("dp-bench allreduce_bytes=(\\d+) seconds=([0-9.]+)");

  private DataParallelBench() {}

  /** The parent: runs both arms and prints the table. */
  static int compare(String model, int nproc, int batch, int steps, int warmup, int tokens) {
    System.out.printf(Locale.ROOT, "model %s, batch %d per rank, %d timed steps after %d warm-up, fp32, 1 thread per "
        + "rank; arms run one after the other%n", model, batch, steps, warmup);
    List<String> rows = new ArrayList<>();
    double single = 0;
    String allReduce = null;
    for (int n : new int[] {1, nproc}) {
      String out = launch(n, model, batch, steps, warmup, tokens);
      Matcher m = STEP.matcher(out);
      if (!m.find()) throw new IllegalStateException("the " + n + "-rank arm printed no timing:\n" + out);
      double samples = Double.parseDouble(m.group(1));
      if (n == 1) single = samples;
      rows.add(String.format(Locale.ROOT, "| %d x 1 | %.3f | %.2f | %.2fx |", n, samples,
          Double.parseDouble(m.group(2)), samples / single));
      Matcher a = ALLREDUCE.matcher(out);
      if (a.find()) {
        long bytes = Long.parseLong(a.group(1));
        double seconds = Double.parseDouble(a.group(2));
        double algbw = bytes / seconds / 1e9;
        allReduce = String.format(Locale.ROOT, "all-reduce of the gradient (%.1f MB fp32) on %d ranks: %.3f s (median "
            + "of 3), %.2f GB/s algorithm bandwidth, %.2f GB/s bus bandwidth", bytes / 1e6, n, seconds, algbw,
            algbw * 2 * (n - 1) / n);
      }
    }
    System.out.println();
    System.out.println("| ranks x threads | samples/s (all ranks) | s/step (median) | speed-up |");
    System.out.println("| --- | ---: | ---: | ---: |");
    rows.forEach(System.out::println);
    if (allReduce != null) System.out.println(System.lineSeparator() + allReduce);
    return 0;
  }

  private static String launch(int n, String model, int batch, int steps, int warmup, int tokens) {
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    argv.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "--model", model,
        "--batch", "" + batch, "--steps", "" + steps, "--warmup", "" + warmup, "--tokens", "" + tokens,
        "--threads", "1", "--dp-rank"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port for the rendezvous: " + e.getMessage(), e);
    }
    int status = new Launcher(new Launcher.Plan(n, 1, 0, "127.0.0.1", port, argv), Map.of("OPENBLAS_NUM_THREADS", "1"))
        .run(new PrintStream(out, true), new PrintStream(err, true));
    if (status != 0) throw new IllegalStateException("the " + n + "-rank arm failed: " + err + out);
    return out.toString();
  }

  /** One rank of an arm: times the steps, and with several ranks one all-reduce of the gradient's size. */
  static int rank(String model, int batch, int steps, int warmup, int tokens) throws IOException {
    DistributedGroup group = DistributedGroup.join(DistributedEnvironment.fromEnvironment());
    TorchRuntime.setThreads(1);
    MPlugConfig config = PretrainConfig.modelConfig(model).withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER,
        Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS));
    BertTokenizer tokenizer = new BertTokenizer(BenchCommand.syntheticVocabulary(config.text().vocab()));
    TorchRuntime.seed(0);
    MPlug mplug = new MPlug(config);
    Path scratch = Files.createTempDirectory("mplug-dp-bench");
    int total = warmup + steps;
    TrainerConfig train = TrainerConfig.builder(total).warmupSteps(0).logEvery(1).checkpointEvery(0).keepLast(1)
        .seed(0).build();
    Objectives objectives = Objectives.builder().queueSize(Math.max(batch * group.worldSize(), 4096)).build();
    try (PretrainingTask task = new PretrainingTask(mplug, tokenizer, objectives, tokens, 0,
            group.distributed() ? group::allGather : null);
        BenchCommand.SyntheticBatches data = new BenchCommand.SyntheticBatches(batch, config.vision().imageRes(),
            tokens, tokenizer.vocabulary());
        Trainer<?> trainer = new Trainer<>(train, task, data, new CheckpointStore(scratch, 1), List.of(),
            new Progress(new PrintStream(new ByteArrayOutputStream()), false, total, 1), group)) {
      List<Double> seconds = new ArrayList<>();
      for (int s = 0; s < total; s++) {
        long t0 = System.nanoTime();
        trainer.run(s + 1);
        if (s >= warmup) seconds.add((System.nanoTime() - t0) / 1e9);
      }
      double median = seconds.stream().sorted().toList().get(seconds.size() / 2);
      if (group.writer()) {
        System.out.printf(Locale.ROOT, "dp-bench samples_per_second=%.4f seconds_per_step=%.4f%n",
            batch * group.worldSize() / median, median);
      }
      if (group.distributed()) {
        long numel = mplug.namedParameters().values().stream().mapToLong(Tensor::numel).sum();
        List<Double> times = new ArrayList<>();
        try (TensorScope scope = TensorScope.open()) {
          Tensor gradient = torch.ones(numel);
          for (int i = 0; i < 3; i++) {
            group.barrier();
            long t0 = System.nanoTime();
            group.allReduceSum(gradient);
            times.add((System.nanoTime() - t0) / 1e9);
          }
        }
        if (group.writer()) {
          System.out.printf(Locale.ROOT, "dp-bench allreduce_bytes=%d seconds=%.4f%n", numel * 4,
              times.stream().sorted().toList().get(1));
        }
      }
    } finally {
      CheckpointStore.deleteTree(scratch);
    }
    return 0;
  }
}
