package dev.mplug.cli;

import dev.mplug.bench.CaptionTaskBenchmark;
import dev.mplug.bench.GroundingTaskBenchmark;
import dev.mplug.bench.RetrievalTaskBenchmark;
import dev.mplug.bench.VqaTaskBenchmark;
import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.data.text.VocabularyBuilder;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.Tasks;
import dev.mplug.task.pretrain.Objectives;
import dev.mplug.task.pretrain.PretrainBatch;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainingTask;
import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.AttentionCore;
import dev.mplug.nn.FusedAttention;
import dev.mplug.profile.PeakResidentSet;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.Precision;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.Batches;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.ModelFlops;
import dev.mplug.train.Progress;
import dev.mplug.train.Trainer;
import dev.mplug.train.TrainerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mplug bench}: pretraining-step throughput and MFU of a model size on this machine, in fp32, bf16, or both
 * in one run (their steps interleaved, so that both see the same machine load) with the bf16/fp32 ratio.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Time full pretraining steps (ITC + ITM + MLM + prefix LM, forward, backward, AdamW, momentum "
        + "update) of mPLUG-base at 256 px, batch 8, on synthetic inputs, and print samples/s and model FLOPs "
        + "utilisation against this machine's measured matmul rate of each precision; with --nproc N, data-parallel "
        + "scaling (N ranks x 1 thread against 1 x 1).")
public final class BenchCommand implements Callable<Integer> {
  @Option(names = "--model", description = "Model preset or config (default ${DEFAULT-VALUE}: ViT-B/16 at 256 px).")
  String model = "model-base-256";

  @Option(names = "--batch", description = "Samples per step (default ${DEFAULT-VALUE}).")
  int batch = 8;

  @Option(names = "--steps", description = "Timed steps per precision (default ${DEFAULT-VALUE}).")
  int steps = 3;

  @Option(names = "--warmup", description = "Untimed steps first, per precision (default ${DEFAULT-VALUE}).")
  int warmup = 1;

  @Option(names = "--tokens", description = "Caption length in tokens (default ${DEFAULT-VALUE}).")
  int tokens = 32;

  @Option(names = "--threads", description = "Intra-op and BLAS threads (default: MPLUG_THREADS, else all cores).")
  Integer threads;

  @Option(names = "--precision", split = ",", description = "fp32, bf16, or both as fp32,bf16 (default ${DEFAULT-VALUE}).")
  List<String> precisions = List.of("fp32");

  @Option(names = "--task", description = "Time a downstream task's inference instead: vqa (answers/s), caption "
      + "(captions/s, SCST vs CE step), retrieval (1,000 images x 5,000 texts, k = 128), grounding (expressions/s); "
      + "with and without the KV cache where it applies.")
  String task;

  @Option(names = "--attention", description = "Attention path: auto (native in fp32, composite under bf16), native "
      + "or composite (default ${DEFAULT-VALUE}).")
  String attention = "auto";

  @Option(names = "--api", description = "Time the inference API instead (random weights of --model, no download): "
      + "caption and VQA latency p50/p99 and items/s at batch 1 and --batch, per --precision, over --steps "
      + "requests; then the HTTP service's requests/s at 1, 4 and 16 clients.")
  boolean api;

  @Option(names = "--nproc", description = "Data-parallel scaling instead: the pretraining step as 1 rank x 1 thread "
      + "and as N ranks x 1 thread (separate processes, Gloo), global samples/s and speed-up, and an all-reduce of "
      + "the model's gradient (default ${DEFAULT-VALUE}: off).")
  int nproc = 1;

  @Option(names = "--dp-rank", hidden = true, description = "One rank of --nproc's arms (set by the launcher).")
  boolean dataParallelRank;

  @Option(names = "--fusion-attention", split = ",", description = "The fusion layers' attention: auto (fused for "
      + "bf16, composite for fp32), fused (the native fused kernels, fp32 and bf16), composite (op by op over the "
      + "concatenated streams), or several as fused,composite, their steps interleaved (default ${DEFAULT-VALUE}).")
  List<String> fusionAttention = List.of("auto");

  @Option(names = "--activation-checkpointing", description = "Layer stacks recomputed in backward: none, all, or a "
      + "comma-separated list of vit, text_encoder, fusion, decoder (default ${DEFAULT-VALUE}); compare peak RSS and "
      + "s/step of separate runs, as the RSS peak is the process's.")
  String activationCheckpointing = "none";

  @Option(names = "--device", paramLabel = "cpu|cuda:N", description = "Where the steps run (default "
      + "${DEFAULT-VALUE}; CUDA needs the GPU libtorch: mvn -Pgpu package).")
  String device = "cpu";

  /**
   * One timed configuration. Arms of the same precision share one trainer (and so one set of optimizer state: two
   * base-size trainers do not fit in this machine's memory); each arm sets its fusion attention before its steps.
   */
  private record Arm(Precision precision, FusedAttention.Mode fusion, Trainer<PretrainBatch> trainer, double peak,
      List<Double> seconds) {
    String fusionLabel() {
      return fusion.label();
    }
  }

  @Override
  public Integer call() throws Exception {
    if (task != null) return taskBenchmark();
    if (api) {
      if (threads != null) TorchRuntime.setThreads(threads);
      return new ApiBench(model, batch, steps, precisions.stream().map(ModelOptions::precision).distinct().toList())
          .run();
    }
    if (batch < 2 || steps < 1 || warmup < 0 || tokens < 4 || nproc < 1) {
      throw new IllegalArgumentException("need --batch >= 2, --steps >= 1, --warmup >= 0, --tokens >= 4, "
          + "--nproc >= 1");
    }
    if (dataParallelRank) return DataParallelBench.rank(model, batch, steps, warmup, tokens);
    if (nproc > 1) return DataParallelBench.compare(model, nproc, batch, steps, warmup, tokens);
    List<Precision> wanted = precisions.stream().map(Precision::parse).distinct().toList();
    AttentionCore.Impl path = switch (attention) {
      case "auto" -> AttentionCore.Impl.AUTO;
      case "native" -> AttentionCore.Impl.NATIVE;
      case "composite" -> AttentionCore.Impl.COMPOSITE;
      default -> throw new IllegalArgumentException("--attention " + attention + ": expected auto, native or composite");
    };
    List<FusedAttention.Mode> fusions = fusionAttention.stream()
        .map(f -> FusedAttention.Mode.parse(f, "--fusion-attention")).distinct().toList();   // fails before compute
    ActivationCheckpoint.parse(activationCheckpointing, "--activation-checkpointing");
    ComputeDevice on = ComputeDevice.parse(device, "--device").requireAvailable("--device");
    TorchRuntime.load();
    if (threads != null) TorchRuntime.setThreads(threads);
    AttentionCore.Impl previousPath = AttentionCore.use(path);
    FusedAttention.Mode previousFusion = FusedAttention.current();
    MPlugConfig config = PretrainConfig.modelConfig(model).withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER,
        Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS));
    int vocab = config.text().vocab();
    BertTokenizer tokenizer = new BertTokenizer(syntheticVocabulary(vocab));
    TorchRuntime.seed(0);
    System.out.printf(Locale.ROOT, "model %s: image %d px, vision width %d x %d layers, text hidden %d, fusion stride "
        + "%d; batch %d, %d tokens, %s, attention %s, fusion attention %s, activation checkpointing %s, %d threads "
        + "(OPENBLAS_NUM_THREADS=%s)%n",
        model, config.vision().imageRes(), config.vision().width(), config.vision().layers(), config.text().hidden(),
        config.text().strideLayer(), batch, tokens, wanted, attention, fusionAttention, activationCheckpointing,
        TorchRuntime.threads(),
        System.getenv().getOrDefault("OPENBLAS_NUM_THREADS", "unset"));
    for (Precision p : wanted) {
      if (p.hardwareWarning() != null) System.out.println("warning: " + p.hardwareWarning());
    }
    MPlug mplug = new MPlug(config);
    Objectives objectives = Objectives.builder().queueSize(Math.max(batch, 4096)).build();
    Path scratch = Files.createTempDirectory("mplug-bench");
    int total = warmup + steps;
    List<Arm> arms = new ArrayList<>();
    List<Trainer<PretrainBatch>> trainers = new ArrayList<>();
    try (PretrainingTask task = new PretrainingTask(mplug, tokenizer, objectives, tokens, 0, null);
        SyntheticBatches data = new SyntheticBatches(batch, config.vision().imageRes(), tokens,
            tokenizer.vocabulary())) {
      long params = mplug.namedParameters().values().stream().mapToLong(Tensor::numel).sum();
      double flops = task.flopsPerSample();
      System.out.printf(Locale.ROOT, "%,d parameters; ~%.1f GFLOP per training sample%n", params, flops / 1e9);
      for (Precision p : wanted) {
        double peak = ModelFlops.measureMatmulPeak(1024, 1.0, p, on);
        System.out.printf(Locale.ROOT, "%s matmul rate %.1f GFLOP/s (1024^3)%n", p, peak / 1e9);
        long trainerSteps = (long) total * fusions.size();
        TrainerConfig train = TrainerConfig.builder(trainerSteps).warmupSteps(0).precision(p.label()).logEvery(1)
            .checkpointEvery(0).keepLast(1).maxNonFiniteInARow(3).seed(0)
            .attention(fusions.get(0).label()).activationCheckpointing(activationCheckpointing)
            .device(device).build();
        Trainer<PretrainBatch> trainer = new Trainer<>(train, task, data,
            new CheckpointStore(scratch.resolve(p.label()), 1), List.of(),
            new Progress(new PrintStream(new ByteArrayOutputStream()), false, trainerSteps, 1), false);
        trainers.add(trainer);
        for (FusedAttention.Mode fusion : fusions) {
          arms.add(new Arm(p, fusion, trainer, peak, new ArrayList<>()));
        }
      }
      System.out.println();
      System.out.println(
          "| step | precision | attention | fusion attention | seconds | samples/s | MFU | peak RSS MiB |");
      System.out.println("| ---: | --- | --- | --- | ---: | ---: | ---: | ---: |");
      for (int s = 0; s < total; s++) {
        for (Arm arm : arms) {                     // interleaved: the arms share the machine's drift
          FusedAttention.use(arm.fusion());        // process-wide: the arm's own before each of its steps
          PeakResidentSet.reset();
          long t0 = System.nanoTime();
          arm.trainer().run(arm.trainer().step() + 1);   // one step of the (possibly shared) trainer
          double sec = (System.nanoTime() - t0) / 1e9;
          boolean timed = s >= warmup;
          if (timed) arm.seconds().add(sec);
          System.out.printf(Locale.ROOT, "| %d%s | %s | %s | %s | %.2f | %.2f | %.1f%% | %.0f |%n", s + 1,
              timed ? "" : " (warm-up)", arm.precision(), AttentionCore.resolvedUnder(arm.precision().autocast()),
              arm.fusionLabel(), sec, batch / sec, 100 * ModelFlops.utilisation(flops, batch / sec, arm.peak()),
              PeakResidentSet.bytes() / (double) (1 << 20));
        }
      }
      System.out.println();
      System.out.println(
          "| precision | attention | fusion attention | s/step (median) | samples/s | matmul GFLOP/s | MFU |");
      System.out.println("| --- | --- | --- | ---: | ---: | ---: | ---: |");
      for (Arm arm : arms) {
        double median = median(arm.seconds());
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %.2f | %.2f | %.1f | %.1f%% |%n", arm.precision(),
            AttentionCore.resolvedUnder(arm.precision().autocast()), arm.fusionLabel(), median, batch / median,
            arm.peak() / 1e9, 100 * ModelFlops.utilisation(flops, batch / median, arm.peak()));
      }
      System.out.println();
      for (Arm a : arms) {
        for (Arm b : arms) {   // each pair differing in one thing: precision (bf16 / fp32) or path (fused / composite)
          boolean precisions = a.fusion() == b.fusion() && a.precision() == Precision.FP32
              && b.precision() == Precision.BF16;
          boolean paths = a.precision() == b.precision() && a.fusion() == FusedAttention.Mode.COMPOSITE
              && b.fusion() == FusedAttention.Mode.FUSED;
          if (!precisions && !paths) continue;
          String what = precisions ? b.precision() + " / " + a.precision()
              : b.fusionLabel() + " / " + a.fusionLabel();
          String within = precisions ? (fusions.size() > 1 ? " (" + a.fusionLabel() + " fusion attention)" : "")
              : " (" + a.precision() + ")";
          System.out.printf(Locale.ROOT, "%s samples/s%s: %.2fx (medians of %d interleaved steps each)%n", what, within,
              median(a.seconds()) / median(b.seconds()), steps);
        }
      }
    } finally {
      for (Trainer<PretrainBatch> trainer : trainers) trainer.close();
      AttentionCore.use(previousPath);
      FusedAttention.use(previousFusion);
      CheckpointStore.deleteTree(scratch);
    }
    return 0;
  }

  private static double median(List<Double> xs) {
    double[] sorted = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return sorted[sorted.length / 2];
  }

  /** The downstream task's inference benchmark (its table on stdout). */
  private int taskBenchmark() {
    TorchRuntime.load();
    int n = threads != null ? threads : TorchRuntime.threads();
    switch (task) {
      case "vqa" -> VqaTaskBenchmark.run(System.out, n);
      case "caption" -> CaptionTaskBenchmark.run(System.out, n);
      case "retrieval" -> RetrievalTaskBenchmark.run(System.out, n);
      case "grounding" -> GroundingTaskBenchmark.run(System.out, n);
      default -> throw new IllegalArgumentException("--task " + task + " is not one of " + Tasks.names());
    }
    return 0;
  }

  /** bert-base-uncased's layout of special tokens ({@link VocabularyBuilder}), then words w0, w1, ... to {@code size}. */
  static Vocabulary syntheticVocabulary(int size) {
    VocabularyBuilder words = new VocabularyBuilder();
    for (int i = 0; words.firstPiece() + i < size; i++) words.add("w" + i);
    return words.build();
  }

  /** The same random batch every step (input cost is not what this measures). */
  static final class SyntheticBatches implements Batches<PretrainBatch> {
    private final Tensor images;
    private final Tensor ids;
    private final Tensor mask;
    private final List<String> captions = new ArrayList<>();
    private int served;

    SyntheticBatches(int batch, int res, int tokens, Vocabulary vocabulary) {
      images = torch.randn(batch, 3, res, res);
      long[] raw = new long[batch * tokens];
      SplittableRandom r = new SplittableRandom(1);
      int firstWord = new VocabularyBuilder().firstPiece();
      for (int b = 0; b < batch; b++) {
        StringBuilder caption = new StringBuilder();
        raw[b * tokens] = vocabulary.clsId();
        for (int t = 1; t < tokens - 1; t++) {
          int w = r.nextInt(firstWord, vocabulary.size());
          raw[b * tokens + t] = w;
          caption.append(t > 1 ? " " : "").append(vocabulary.token(w));
        }
        raw[b * tokens + tokens - 1] = vocabulary.sepId();
        captions.add(caption.toString());
      }
      ids = Tensors.longs(raw, batch, tokens);
      long[] ones = new long[batch * tokens];
      Arrays.fill(ones, 1);
      mask = Tensors.longs(ones, batch, tokens);
      for (Tensor t : new Tensor[] {images, ids, mask}) t.retainReference();
    }

    @Override
    public PretrainBatch next() {
      served++;
      return new PretrainBatch(images, ids, mask, captions);
    }

    @Override
    public LoaderPosition position() {
      return new LoaderPosition(0, served);
    }

    @Override
    public void seek(LoaderPosition position) {
      served = position.offset();
    }

    @Override
    public void close() {
      for (Tensor t : new Tensor[] {images, ids, mask}) t.releaseReference();
    }
  }
}
