package dev.mplug.task.pretrain;

import dev.mplug.data.text.BertTokenizer;
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
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * One pretraining run end to end: validate the config, build tokenizer, model, task, data and trainer, optionally
 * resume, evaluate before and after (when an evaluation set is given), train, and leave metrics (JSON lines,
 * TensorBoard) and checkpoints in the output folder.
 */
public final class PretrainRun {
  /** What the run did and measured. */
  public record Report(PretrainEvaluation.Result before, PretrainEvaluation.Result after, Trainer.Summary summary,
      Path checkpoint, Path tensorboard, double peakFlops, double flopsPerSample, long badSamples) {}

  /** Where the evaluation set is and how much of it to use. */
  public record Evaluation(Path file, Path root, int maxImages, int rerankK) {}

  private PretrainRun() {}

  public static Report run(PretrainConfig cfg, boolean resume, Evaluation evaluation, PrintStream log) {
    return run(cfg, resume, evaluation, log, Long.MAX_VALUE);
  }

  /** As {@link #run(PretrainConfig, boolean, Evaluation, PrintStream)}, stopping (with a checkpoint) after step
   * {@code untilStep} of the configured schedule. */
  public static Report run(PretrainConfig cfg, boolean resume, Evaluation evaluation, PrintStream log,
      long untilStep) {
    cfg.checkInputsAndOutputs();
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
    Path resumeFrom = null;
    if (resume) {
      resumeFrom = store.latestValid().orElseThrow(() -> new IllegalArgumentException("--resume: no complete "
          + "checkpoint in " + store.root()));
    }
    TorchRuntime.seed(cfg.train().seed());
    MPlug model = new MPlug(cfg.model().withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION,
        Part.DECODER, Part.ITC_ITM_HEADS)));
    int res = cfg.model().vision().imageRes();
    try (PretrainingTask task = new PretrainingTask(model, tokenizer, cfg.objectives(), cfg.data().maxTokens(),
            cfg.train().seed(), null);
        PretrainData data = new PretrainData(cfg.data(), res, tokenizer, cfg.train().seed(), 0, 1);
        PretrainEvaluation eval = evaluation == null ? null : new PretrainEvaluation(evaluation.file(),
            evaluation.root(), res, tokenizer, cfg.data().maxTokens(), cfg.data().maxWords(), evaluation.maxImages(),
            evaluation.rerankK());
        JsonLinesSink jsonl = new JsonLinesSink(out.resolve("metrics.jsonl"));
        TensorBoardSink tb = new TensorBoardSink(out.resolve("tensorboard"));
        Trainer<PretrainBatch> trainer = new Trainer<>(cfg.train(), task, data, store, List.<MetricsSink>of(jsonl, tb),
            new Progress(log, log == System.out && System.console() != null && System.console().isTerminal(),
                cfg.train().totalSteps(), cfg.train().logEvery()), true)) {
      Files.writeString(out.resolve("model_config.txtpb"), ConfigFile.format(model.config()));
      double peak = ModelFlops.measureMatmulPeak(512, 0.5);
      trainer.setPeakFlops(peak);
      log.printf(Locale.ROOT, "model: %,d parameters; data: %d samples/epoch (%d batches of %d); threads %d; "
          + "matmul peak %.1f GFLOP/s; ~%.2f GFLOP per sample%n", model.namedParameters().values().stream()
          .mapToLong(t -> t.numel()).sum(), data.loader().samplesPerEpoch(), data.loader().batchesPerEpoch(),
          cfg.data().batchSize(), TorchRuntime.threads(), peak / 1e9, task.flopsPerSample() / 1e9);
      if (resumeFrom != null) {
        trainer.resume(resumeFrom);
        log.println("resumed from " + resumeFrom + " at step " + trainer.step());
      }
      PretrainEvaluation.Result before = eval == null ? null : eval.evaluate(model, cfg.train().seed());
      Trainer.Summary summary = trainer.run(Math.min(untilStep, cfg.train().totalSteps()));
      PretrainEvaluation.Result after = eval == null ? null : eval.evaluate(model, cfg.train().seed());
      long bad = data.loader().badSamples().bad();
      return new Report(before, after, summary, summary.lastCheckpoint(), tb.file().getParent(), peak,
          task.flopsPerSample(), bad);
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
      row(out, "MLM accuracy (%)", r.before().mlm().percent(), r.after().mlm().percent());
    }
    List<Double> losses = r.summary().losses();
    if (!losses.isEmpty()) {
      int k = Math.min(10, losses.size());
      row(out, "training loss (mean of first/last " + k + " steps)", mean(losses.subList(0, k)),
          mean(losses.subList(losses.size() - k, losses.size())));
    }
    out.printf(Locale.ROOT, "%nsteps %d (skipped %d), %.1f samples/s, MFU %.1f%% of %.1f GFLOP/s, bad samples %d%n",
        r.summary().steps(), r.summary().skippedSteps(), r.summary().samplesPerSecond(),
        100 * ModelFlops.utilisation(r.flopsPerSample(), r.summary().samplesPerSecond(), r.peakFlops()),
        r.peakFlops() / 1e9, r.badSamples());
    out.println("checkpoint: " + r.checkpoint());
    out.println("TensorBoard: tensorboard --logdir " + r.tensorboard());
  }

  private static void row(PrintStream out, String name, double before, double after) {
    out.printf(Locale.ROOT, "| %s | %.2f | %.2f |%n", name, before, after);
  }

  private static double mean(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }
}
