package dev.mplug.cli;

import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.data.text.VocabularyBuilder;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.pretrain.Objectives;
import dev.mplug.task.pretrain.PretrainBatch;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainingTask;
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

/** {@code mplug bench}: pretraining-step throughput and MFU of a model size on this machine. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Time full pretraining steps (ITC + ITM + MLM + prefix LM, forward, backward, AdamW, momentum "
        + "update) of mPLUG-base at 256 px, batch 8, on synthetic inputs, and print samples/s and model FLOPs "
        + "utilisation against this machine's measured fp32 matmul rate.")
public final class BenchCommand implements Callable<Integer> {
  @Option(names = "--model", description = "Model preset or config (default ${DEFAULT-VALUE}: ViT-B/16 at 256 px).")
  String model = "model-base-256";

  @Option(names = "--batch", description = "Samples per step (default ${DEFAULT-VALUE}).")
  int batch = 8;

  @Option(names = "--steps", description = "Timed steps (default ${DEFAULT-VALUE}).")
  int steps = 3;

  @Option(names = "--warmup", description = "Untimed steps first (default ${DEFAULT-VALUE}).")
  int warmup = 1;

  @Option(names = "--tokens", description = "Caption length in tokens (default ${DEFAULT-VALUE}).")
  int tokens = 32;

  @Option(names = "--threads", description = "Intra-op and BLAS threads (default: MPLUG_THREADS, else all cores).")
  Integer threads;

  @Option(names = "--precision", description = "fp32 or bf16 (default ${DEFAULT-VALUE}).")
  String precision = "fp32";

  @Override
  public Integer call() throws Exception {
    if (batch < 2 || steps < 1 || warmup < 0 || tokens < 4) {
      throw new IllegalArgumentException("need --batch >= 2, --steps >= 1, --warmup >= 0, --tokens >= 4");
    }
    TorchRuntime.load();
    if (threads != null) TorchRuntime.setThreads(threads);
    MPlugConfig config = PretrainConfig.modelConfig(model).withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER,
        Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS));
    int vocab = config.text().vocab();
    BertTokenizer tokenizer = new BertTokenizer(syntheticVocabulary(vocab));
    TorchRuntime.seed(0);
    System.out.printf(Locale.ROOT, "model %s: image %d px, vision width %d x %d layers, text hidden %d, fusion stride "
        + "%d; batch %d, %d tokens, %s, %d threads%n", model, config.vision().imageRes(), config.vision().width(),
        config.vision().layers(), config.text().hidden(), config.text().strideLayer(), batch, tokens, precision,
        TorchRuntime.threads());
    double peak = ModelFlops.measureMatmulPeak(1024, 1.0);
    MPlug mplug = new MPlug(config);
    Objectives objectives = Objectives.builder().queueSize(Math.max(batch, 4096)).build();
    Path scratch = Files.createTempDirectory("mplug-bench");
    int total = warmup + steps;
    TrainerConfig train = TrainerConfig.builder(total).warmupSteps(0).precision(precision).logEvery(1)
        .checkpointEvery(0).keepLast(1).maxNonFiniteInARow(3).seed(0).build();
    List<Double> seconds = new ArrayList<>();
    try (PretrainingTask task = new PretrainingTask(mplug, tokenizer, objectives, tokens, 0, null);
        SyntheticBatches data = new SyntheticBatches(batch, config.vision().imageRes(), tokens,
            tokenizer.vocabulary());
        Trainer<PretrainBatch> trainer = new Trainer<>(train, task, data, new CheckpointStore(scratch, 1), List.of(),
            new Progress(new PrintStream(new ByteArrayOutputStream()), false, total, 1), false)) {
      long params = mplug.namedParameters().values().stream().mapToLong(Tensor::numel).sum();
      double flops = task.flopsPerSample();
      System.out.printf(Locale.ROOT, "%,d parameters; ~%.1f GFLOP per training sample; fp32 matmul peak %.1f "
          + "GFLOP/s (1024^3)%n%n", params, flops / 1e9, peak / 1e9);
      System.out.println("| step | seconds | samples/s | MFU |");
      System.out.println("| ---: | ---: | ---: | ---: |");
      for (int s = 0; s < total; s++) {
        long t0 = System.nanoTime();
        trainer.run(s + 1);
        double sec = (System.nanoTime() - t0) / 1e9;
        boolean timed = s >= warmup;
        if (timed) seconds.add(sec);
        System.out.printf(Locale.ROOT, "| %d%s | %.2f | %.2f | %.1f%% |%n", s + 1, timed ? "" : " (warm-up)", sec,
            batch / sec, 100 * ModelFlops.utilisation(flops, batch / sec, peak));
      }
      double[] sorted = seconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double median = sorted[sorted.length / 2];
      System.out.printf(Locale.ROOT, "%nmedian of %d timed steps: %.2f s/step, %.2f samples/s, MFU %.1f%%%n",
          sorted.length, median, batch / median, 100 * ModelFlops.utilisation(flops, batch / median, peak));
    } finally {
      CheckpointStore.deleteTree(scratch);
    }
    return 0;
  }

  /** bert-base-uncased's special-token layout ({@link VocabularyBuilder}), then words w0, w1, ... to {@code size}. */
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
