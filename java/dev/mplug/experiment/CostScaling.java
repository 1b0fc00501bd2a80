package dev.mplug.experiment;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.VocabularyBuilder;
import dev.mplug.model.LambdaConfig;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.profile.PeakResidentSet;
import dev.mplug.task.pretrain.Objectives;
import dev.mplug.task.pretrain.PretrainBatch;
import dev.mplug.task.pretrain.PretrainFlops;
import dev.mplug.task.pretrain.PretrainingTask;
import dev.mplug.torch.NativeHeap;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * How the cost of a pretraining step grows with the visual sequence for each way of mixing it: mPLUG as configured
 * (co-attention layers, a connected layer every {@code stride_layer}), connected attention in every fusion layer,
 * co-attention only, and lambda layers in the connected layers, in the ViT, or both. For each image size the step
 * (all four objectives, batch {@code batch}, random images and captions) runs {@code warmup} + {@code steps} times at
 * one intra-op thread; reported: the median CPU time of the stepping thread per step (with one thread libtorch computes
 * on the calling thread, so the figure holds when other work shares the machine), the model FLOPs of a step
 * ({@link PretrainFlops}), and the peak resident set of the process during the measured steps (the C heap's free
 * pages returned to the system before them; the JVM's own memory, about the same for every point, is included).
 */
public final class CostScaling {
  /** One way of mixing the visual sequence, as a change of the base model config. */
  public record Variant(String name, MPlugConfig config) {}

  /** One measurement. */
  public record Row(String variant, int imageRes, int visualTokens, double cpuSeconds, double gflops,
      double peakMib) {}

  private static final List<String> WORDS = List.of("a", "red", "blue", "green", "circle", "square", "star", "small",
      "big", "on", "the", "left", "right", "top", "bottom", "of", "and", "two", "three", "shapes");

  private CostScaling() {}

  /** The variants over {@code base}: as configured, connected everywhere, co-attention only, lambda layers. */
  public static List<Variant> variants(MPlugConfig base) {
    int fusion = base.text().fusionLayers();
    LambdaConfig fusionLambda = new LambdaConfig(true, false, 16, 0);
    LambdaConfig visionLambda = new LambdaConfig(false, true, 16, 7);
    return List.of(
        new Variant("mplug (stride " + base.text().strideLayer() + ")", base),
        new Variant("connected everywhere", base.withText(base.text().withStrideLayer(1))),
        new Variant("co-attention only", base.withText(base.text().withStrideLayer(Math.max(1, fusion)))),
        new Variant("lambda fusion", base.withLambda(fusionLambda)),
        new Variant("lambda vision (7x7)", base.withLambda(visionLambda)),
        new Variant("lambda both", base.withLambda(new LambdaConfig(true, true, 16, 7))));
  }

  /** Measures every variant at every image size; progress lines go to {@code log}. */
  public static List<Row> run(List<Variant> variants, int[] sizes, int batch, int warmup, int steps, long seed,
      PrintStream log) {
    TorchRuntime.load();
    TorchRuntime.setThreads(1);
    List<Row> rows = new ArrayList<>();
    for (Variant v : variants) {
      for (int res : sizes) {
        Row row = measure(v, res, batch, warmup, steps, seed);
        log.printf(Locale.ROOT, "%s at %d px: %.3f s/step, %.2f GFLOP, peak %.0f MiB%n", v.name(), res,
            row.cpuSeconds(), row.gflops(), row.peakMib());
        rows.add(row);
      }
    }
    return rows;
  }

  static Row measure(Variant v, int res, int batch, int warmup, int steps, long seed) {
    MPlugConfig c = v.config().withVision(v.config().vision().withImageRes(res))
        .withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS));
    int maxTokens = Math.min(16, c.text().maxPositions());
    BertTokenizer tok = new BertTokenizer(new VocabularyBuilder().addAll(WORDS).build());
    if (tok.vocabulary().size() > c.text().vocab()) {
      throw new IllegalArgumentException("the model's vocab_size " + c.text().vocab() + " is below the experiment's "
          + tok.vocabulary().size() + " tokens");
    }
    TorchRuntime.seed(seed);
    Objectives o = Objectives.builder().queueSize(Math.max(16, batch)).build();
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    double[] seconds = new double[steps];
    long peak;
    try (MPlug model = new MPlug(c); PretrainingTask task = new PretrainingTask(model, tok, o, maxTokens, seed, null)) {
      for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) {   // freed pages back to the system first, so that the peak is this point's own
          NativeHeap.trim();
          PeakResidentSet.reset();
        }
        long start = cpu.getCurrentThreadCpuTime();
        step(task, tok, batch, res, maxTokens, s);
        if (s >= warmup) seconds[s - warmup] = (cpu.getCurrentThreadCpuTime() - start) / 1e9;
      }
      peak = PeakResidentSet.bytes();
    }
    Arrays.sort(seconds);
    double median = steps % 2 == 1 ? seconds[steps / 2] : (seconds[steps / 2 - 1] + seconds[steps / 2]) / 2;
    int grid = res / c.vision().patchSize();
    return new Row(v.name(), res, grid * grid + 1, median, PretrainFlops.estimate(c, maxTokens, o) * batch / 1e9,
        peak / (1024.0 * 1024));
  }

  /** One training step's forward and backward (no optimizer: its cost does not depend on the visual sequence). */
  private static void step(PretrainingTask task, BertTokenizer tok, int batch, int res, int maxTokens, long step) {
    try (TensorScope _ = TensorScope.open()) {
      List<String> captions = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        captions.add(String.join(" ", WORDS.get((int) ((step * 7 + i * 3) % WORDS.size())), "big",
            WORDS.get((int) ((step + i * 5) % WORDS.size())), "on the left"));
      }
      TokenBatch t = tok.encodeBatch(captions, maxTokens, Padding.LONGEST);
      PretrainBatch b = new PretrainBatch(torch.randn(batch, 3, res, res), t.idsTensor(), t.maskTensor(), captions);
      Map<String, Tensor> losses = task.losses(b, step);
      Tensor total = null;
      for (Tensor l : losses.values()) total = total == null ? l : total.add(l);
      total.backward();
      for (Tensor p : task.parameters().values()) {
        if (p.grad().defined()) p.grad().zero_();
      }
    }
  }

  /** The rows as a Markdown table, with each variant's growth from the smallest size. */
  public static String table(List<Row> rows) {
    StringBuilder out = new StringBuilder("| variant | image px | visual tokens | CPU s/step | GFLOP/step | peak MiB "
        + "| time vs smallest | FLOPs vs smallest |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (Row r : rows) {
      Row first = rows.stream().filter(x -> x.variant().equals(r.variant())).findFirst().orElseThrow();
      out.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3f | %.2f | %.0f | %.2fx | %.2fx |%n", r.variant(),
          r.imageRes(), r.visualTokens(), r.cpuSeconds(), r.gflops(), r.peakMib(), r.cpuSeconds() / first.cpuSeconds(),
          r.gflops() / first.gflops()));
    }
    return out.toString();
  }

  /** Writes {@code table.md}, {@code time.png} and {@code flops.png} into {@code dir}. */
  public static void write(Path dir, List<Row> rows, String header) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("table.md"), header + "\n\n" + table(rows));
    List<String> names = rows.stream().map(Row::variant).distinct().toList();
    List<LinePlot.Series> time = new ArrayList<>();
    List<LinePlot.Series> flops = new ArrayList<>();
    for (String n : names) {
      List<Row> mine = rows.stream().filter(r -> r.variant().equals(n)).toList();
      double[] x = mine.stream().mapToDouble(Row::visualTokens).toArray();
      time.add(new LinePlot.Series(n, x, mine.stream().mapToDouble(Row::cpuSeconds).toArray()));
      flops.add(new LinePlot.Series(n, x, mine.stream().mapToDouble(Row::gflops).toArray()));
    }
    LinePlot.write(dir.resolve("time.png"), "Pretraining step: CPU time vs visual tokens", "visual tokens (ViT)",
        "CPU seconds per step", time);
    LinePlot.write(dir.resolve("flops.png"), "Pretraining step: model FLOPs vs visual tokens", "visual tokens (ViT)",
        "GFLOP per step", flops);
  }
}
