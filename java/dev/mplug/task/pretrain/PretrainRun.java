package dev.mplug.task.pretrain;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.dist.DistributedEnvironment;
import dev.mplug.dist.DistributedGroup;
import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.ModelFlops;
import dev.mplug.train.Progress;
import dev.mplug.train.Trainer;
import dev.mplug.train.metrics.JsonLinesSink;
import dev.mplug.train.metrics.MetricsSink;
import dev.mplug.train.metrics.TensorBoardSink;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import java.util.Locale;
import java.util.function.LongToDoubleFunction;

/**
 * One pretraining run end to end: validate the config, build tokenizer, model (a fresh run loads {@code init}'s CLIP /
 * BERT / checkpoint weights and prints the load reports; {@code --resume} ignores {@code init}), task, data and
 * trainer, optionally resume, evaluate before and after (when an evaluation set is given; then every checkpoint is
 * scored by {@code train.best_metric} and the best is kept), train, and leave metrics (JSON lines, TensorBoard) and
 * checkpoints in the output folder.
 *
 * <p>Data parallel when started as several ranks ({@code ./mplug launch}, torchrun; see {@link DistributedEnvironment}):
 * each rank reads its shard of the data, the ITC queues take the momentum features of all ranks, every rank trains
 * and evaluates, and rank 0 alone logs and writes metrics and checkpoints (the output folder must be one all ranks
 * see, e.g. a shared file system, for {@code --resume}).
 */
public final class PretrainRun {
  /** What the run did and measured. */
  public record Report(PretrainEvaluation.Result before, PretrainEvaluation.Result after, Trainer.Summary summary,
      Path checkpoint, Path best, Path tensorboard, double peakFlops, double flopsPerSample, BadSamples badSamples) {}

  /** Distinct bad samples met (each reported once) and the substitutions made for them (every occurrence). */
  public record BadSamples(long distinct, long substitutions) {}

  /** Where the evaluation set is and how much of it to use. */
  public record Evaluation(Path file, Path root, int maxImages, int rerankK) {}

  private PretrainRun() {}

  public static Report run(PretrainConfig cfg, boolean resume, Evaluation evaluation, PrintStream log) {
    return run(cfg, resume, evaluation, log, Long.MAX_VALUE);
  }

  /** As {@link #run(PretrainConfig, boolean, Evaluation, PrintStream)}, stopping (with a checkpoint) after step
   * {@code untilStep} of the configured schedule. */
  public static Report run(PretrainConfig cfg, boolean resume, Evaluation evaluation, PrintStream console,
      long untilStep) {
    DistributedGroup group = DistributedGroup.join(DistributedEnvironment.fromEnvironment());
    PrintStream log = group.writer() ? console : new PrintStream(OutputStream.nullOutputStream());   // rank 0 speaks
    cfg.checkInputsAndOutputs();
    if (!resume) cfg.checkInit();
    TorchRuntime.load();
    if (cfg.threads() > 0) TorchRuntime.setThreads(cfg.threads());
    BertTokenizer tokenizer = BertTokenizer.load(cfg.data().vocab());
    if (tokenizer.vocabulary().size() > cfg.model().text().vocab()) {
      throw new IllegalArgumentException(cfg.source() + ": the vocabulary " + cfg.data().vocab() + " has "
          + tokenizer.vocabulary().size() + " entries, more than the model's text.vocab_size = "
          + cfg.model().text().vocab());
    }
    Path out = cfg.outputDir();
    CheckpointStore store = new CheckpointStore(out.resolve("checkpoints"), cfg.train().keepLast());
    Path resumeFrom = resume ? store.resumePoint(log::println) : null;
    TorchRuntime.seed(cfg.train().seed());
    MPlug model = new MPlug(cfg.model().withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION,
        Part.DECODER, Part.ITC_ITM_HEADS)));
    if (resume && !cfg.init().isEmpty()) {
      log.println("init: not used on --resume (the checkpoint holds the weights)");
    } else {
      // before the task is built: its momentum twins copy the online weights as they are now
      InitialWeights.load(cfg.init(), model).forEach((key, report) -> log.println("init." + key + ": "
          + report.summary()));
    }
    int res = cfg.model().vision().imageRes();
    try (PretrainingTask task = new PretrainingTask(model, tokenizer, cfg.objectives(), cfg.data().maxTokens(),
            cfg.train().seed(), group.distributed() ? group::allGather : null);
        PretrainData data = new PretrainData(cfg.data(), res, tokenizer, cfg.train().seed(), group.rank(),
            group.worldSize());
        PretrainEvaluation eval = evaluation == null ? null : new PretrainEvaluation(evaluation.file(),
            evaluation.root(), res, tokenizer, cfg.data().maxTokens(), cfg.data().maxWords(), evaluation.maxImages(),
            evaluation.rerankK());
        JsonLinesSink jsonl = group.writer() ? new JsonLinesSink(out.resolve("metrics.jsonl")) : null;
        TensorBoardSink tb = group.writer() ? new TensorBoardSink(out.resolve("tensorboard")) : null;
        Trainer<PretrainBatch> trainer = new Trainer<>(cfg.train(), task, data, store,
            Stream.<MetricsSink>of(jsonl, tb).filter(s -> s != null).toList(),
            new Progress(log, log == System.out && System.console() != null && System.console().isTerminal(),
                cfg.train().totalSteps(), cfg.train().logEvery()), group)) {
      if (group.rank() > 0) TorchRuntime.seed(cfg.train().seed() + group.rank());   // own masks and negatives
      if (group.writer()) Files.writeString(out.resolve("model_config.txtpb"), ConfigFile.format(model.config()));
      double peak = ModelFlops.measureMatmulPeak(512, 0.5, trainer.precision(), trainer.device());
      trainer.setPeakFlops(peak);
      log.printf(Locale.ROOT, "model: %,d parameters; data: %d samples/epoch (%d batches of %d) per rank, %d rank(s); "
          + "threads %d; matmul peak %.1f GFLOP/s; ~%.2f GFLOP per sample%n", model.namedParameters().values()
          .stream().mapToLong(t -> t.numel()).sum(), data.loader().samplesPerEpoch(), data.loader().batchesPerEpoch(),
          cfg.data().batchSize(), group.worldSize(), TorchRuntime.threads(), peak / 1e9,
          task.flopsPerSample() / 1e9);
      if (resumeFrom != null) {
        trainer.resume(resumeFrom);
        log.println("resumed from " + resumeFrom + " at step " + trainer.step());
      }
      PretrainEvaluation.Result before = eval == null ? null : eval.evaluate(model, cfg.train().seed());
      CheckpointScores scores = null;
      if (eval != null && !cfg.bestMetric().equals("none")) {
        scores = new CheckpointScores(eval, model, cfg.train().seed(), cfg.bestMetric(), log);
        trainer.scoreCheckpoints(cfg.bestMetric(), scores);
      }
      Trainer.Summary summary = trainer.run(Math.min(untilStep, cfg.train().totalSteps()));
      boolean scoredNow = scores != null && scores.lastStep == trainer.step();
      PretrainEvaluation.Result after = eval == null ? null
          : scoredNow ? scores.last : eval.evaluate(model, cfg.train().seed());
      var bad = data.loader().badSamples();
      Path best = store.best().map(CheckpointStore.Best::checkpoint).orElse(null);
      Path tensorboard = tb == null ? null : tb.file().getParent();
      return new Report(before, after, summary, summary.lastCheckpoint(), best, tensorboard, peak,
          task.flopsPerSample(), new BadSamples(bad.distinct(), bad.substitutions()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to " + out + ": " + e.getMessage(), e);
    }
  }

  /** The before/after table. */
  public static void printTable(Report r, PrintStream out) {
    out.println();
    out.println("| metric | before | after |");
    out.println("| --- | ---: | ---: |");
    if (r.before() != null) {
      row(out, "text retrieval R@1 (image->text)", r.before().retrieval().textR1(), r.after().retrieval().textR1());
      row(out, "text retrieval R@5", r.before().retrieval().textR5(), r.after().retrieval().textR5());
      row(out, "image retrieval R@1 (text->image)", r.before().retrieval().imageR1(), r.after().retrieval().imageR1());
      row(out, "image retrieval R@5", r.before().retrieval().imageR5(), r.after().retrieval().imageR5());
      row(out, "text retrieval R@5, ITC alone", r.before().itcRetrieval().textR5(), r.after().itcRetrieval().textR5());
      row(out, "image retrieval R@5, ITC alone", r.before().itcRetrieval().imageR5(),
          r.after().itcRetrieval().imageR5());
      row(out, "MLM accuracy (%)", r.before().mlm().percent(), r.after().mlm().percent());
    }
    List<Double> losses = r.summary().losses();
    if (!losses.isEmpty()) {
      int k = Math.min(10, losses.size());
      row(out, "training loss (mean of first/last " + k + " steps)", mean(losses.subList(0, k)),
          mean(losses.subList(losses.size() - k, losses.size())));
    }
    out.printf(Locale.ROOT, "%nsteps %d (skipped %d), %.1f samples/s, MFU %.1f%% of %.1f GFLOP/s%n",
        r.summary().steps(), r.summary().skippedSteps(), r.summary().samplesPerSecond(),
        100 * ModelFlops.utilisation(r.flopsPerSample(), r.summary().samplesPerSecond(), r.peakFlops()),
        r.peakFlops() / 1e9);
    out.println(badSampleLine(r.badSamples()));
    out.println("checkpoint: " + r.checkpoint());
    if (r.best() != null) out.println("best checkpoint: " + r.best());
    out.println("TensorBoard: tensorboard --logdir " + r.tensorboard());
  }

  /**
   * Evaluates the model when a checkpoint is written and scores it by one metric (printed); keeps the last result, so
   * the final evaluation is not repeated. Evaluating restores the model's mode and libtorch's generator.
   */
  private static final class CheckpointScores implements LongToDoubleFunction {
    private final PretrainEvaluation eval;
    private final MPlug model;
    private final long seed;
    private final String metric;
    private final PrintStream log;
    private long lastStep = -1;
    private PretrainEvaluation.Result last;

    CheckpointScores(PretrainEvaluation eval, MPlug model, long seed, String metric, PrintStream log) {
      this.eval = eval;
      this.model = model;
      this.seed = seed;
      this.metric = metric;
      this.log = log;
    }

    @Override
    public double applyAsDouble(long step) {
      last = eval.evaluate(model, seed);
      lastStep = step;
      double value = last.metric(metric);
      log.printf(Locale.ROOT, "step %d: %s = %.2f%n", step, metric, value);
      return value;
    }
  }

  /** "bad samples: 6 distinct, 18 substitutions". */
  private static String badSampleLine(BadSamples b) {
    return "bad samples: " + b.distinct() + " distinct, " + b.substitutions() + " substitutions";
  }

  private static void row(PrintStream out, String name, double before, double after) {
    out.printf(Locale.ROOT, "| %s | %.2f | %.2f |%n", name, before, after);
  }

  private static double mean(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }
}
