package dev.mplug.task;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.dist.DistributedEnvironment;
import dev.mplug.dist.DistributedGroup;
import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlug;
import dev.mplug.task.pretrain.InitialWeights;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.GeneratorStates;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.Batches;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.ModelFlops;
import dev.mplug.train.Progress;
import dev.mplug.train.Trainer;
import dev.mplug.train.TrainingTask;
import dev.mplug.train.metrics.JsonLinesSink;
import dev.mplug.train.metrics.MetricsSink;
import dev.mplug.train.metrics.TensorBoardSink;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.LongToDoubleFunction;
import java.util.stream.Stream;

/**
 * One fine-tuning run of a downstream task end to end: validate the config, build the task (it validates its own
 * section), tokenizer and model (the task's parts); optionally score the untrained model; load {@code init}'s weights
 * (a pretrained mPLUG) and score them; train on the shared {@link Trainer} (schedules, accumulation, bf16, exact
 * resume, metrics, progress), scoring every checkpoint by {@code train.best_metric} (default: the task's headline);
 * score the result; write the final results in the official format to {@code <output_dir>/results.json}.
 * Data parallel when started as several ranks, as {@link dev.mplug.task.pretrain.PretrainRun} is: every rank trains
 * its shard and evaluates, rank 0 alone logs and writes.
 */
public final class FinetuneRun {
  /** How to run: resume from the newest checkpoint, stop early, score the untrained model first. */
  public record Options(boolean resume, long untilStep, boolean scoreUntrained) {
    public static Options defaults() {
      return new Options(false, Long.MAX_VALUE, false);
    }
  }

  /**
   * What the run did and measured; evaluations are null without an evaluation set ({@code untrained} also when not
   * asked for).
   */
  public record Report(String task, List<String> metrics, TaskEvaluation untrained, TaskEvaluation before,
      TaskEvaluation after, Trainer.Summary summary, Path checkpoint, Path best, Path results, Path tensorboard) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private FinetuneRun() {}

  public static Report run(FinetuneConfig cfg, Options options, PrintStream log) {
    return runTyped(Tasks.of(cfg), cfg, options, log);
  }

  private static <B> Report runTyped(DownstreamTask<B> task, FinetuneConfig cfg, Options options,
      PrintStream console) {
    DistributedGroup group = DistributedGroup.join(DistributedEnvironment.fromEnvironment());
    PrintStream log = group.writer() ? console : new PrintStream(OutputStream.nullOutputStream());   // rank 0 speaks
    cfg.checkTrainingInputs();
    if (!options.resume()) cfg.checkInit();
    String bestMetric = cfg.bestMetric().isEmpty() ? task.metrics().get(0) : cfg.bestMetric();
    if (!bestMetric.equals("none") && !task.metrics().contains(bestMetric)) {
      throw new IllegalArgumentException(cfg.source() + ": train.best_metric = \"" + bestMetric + "\" is not one of "
          + String.join(", ", task.metrics()) + ", none");
    }
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
    Path resumeFrom = options.resume() ? store.resumePoint(log::println) : null;
    TorchRuntime.seed(cfg.train().seed());
    MPlug model = new MPlug(cfg.model().withParts(task.parts()));
    task.extend(model);
    // on the training device from the start: the untrained model is scored there too, and init's weights load there
    model.moveTo(group.environment().deviceOfRank(ComputeDevice.parse(cfg.train().device(), "train.device"))
        .requireAvailable("device"));
    TaskEvaluation untrained = null;
    if (options.scoreUntrained() && cfg.eval() != null) {
      untrained = evaluate(task, model, tokenizer, cfg, "untrained", log);
    }
    if (options.resume() && !cfg.init().isEmpty()) {
      log.println("init: not used on --resume (the checkpoint holds the weights)");
    } else {
      InitialWeights.load(cfg.init(), model).forEach((key, report) -> log.println("init." + key + ": "
          + report.summary()));
    }
    try (TrainingTask<B> objective = task.trainingTask(model, tokenizer);
        Batches<B> data = task.trainingData(tokenizer, cfg.train().seed(), group.rank(), group.worldSize());
        JsonLinesSink jsonl = group.writer() ? new JsonLinesSink(out.resolve("metrics.jsonl")) : null;
        TensorBoardSink tb = group.writer() ? new TensorBoardSink(out.resolve("tensorboard")) : null;
        Trainer<B> trainer = new Trainer<>(cfg.train(), objective, data, store,
            Stream.<MetricsSink>of(jsonl, tb).filter(s -> s != null).toList(),
            new Progress(log, log == System.out && System.console() != null && System.console().isTerminal(),
                cfg.train().totalSteps(), cfg.train().logEvery()), group)) {
      if (group.rank() > 0) TorchRuntime.seed(cfg.train().seed() + group.rank());   // own dropout masks
      if (group.writer()) Files.writeString(out.resolve("model_config.txtpb"), ConfigFile.format(model.config()));
      double peak = ModelFlops.measureMatmulPeak(512, 0.5, trainer.precision(), trainer.device());
      trainer.setPeakFlops(peak);
      log.printf(Locale.ROOT, "%s: %,d parameters; batch %d; threads %d%n", task.name(),
          model.namedParameters().values().stream().mapToLong(t -> t.numel()).sum(), cfg.data().batchSize(),
          TorchRuntime.threads());
      if (resumeFrom != null) {
        trainer.resume(resumeFrom);
        log.println("resumed from " + resumeFrom + " at step " + trainer.step());
      }
      TaskEvaluation before = cfg.eval() == null ? null : evaluate(task, model, tokenizer, cfg, "before", log);
      CheckpointScores scores = null;
      if (cfg.eval() != null && !bestMetric.equals("none")) {
        scores = new CheckpointScores(task, model, tokenizer, cfg, bestMetric, log);
        trainer.scoreCheckpoints(bestMetric, scores);
      }
      Trainer.Summary summary = trainer.run(Math.min(options.untilStep(), cfg.train().totalSteps()));
      boolean scoredNow = scores != null && scores.lastStep == trainer.step();
      TaskEvaluation after = cfg.eval() == null ? null
          : scoredNow ? scores.last : evaluate(task, model, tokenizer, cfg, "after", log);
      Path results = null;
      if (after != null && group.writer()) {
        results = out.resolve("results.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(results.toFile(), after.results());
      }
      Path best = store.best().map(CheckpointStore.Best::checkpoint).orElse(null);
      return new Report(task.name(), task.metrics(), untrained, before, after, summary, summary.lastCheckpoint(), best,
          results, tb == null ? null : tb.file().getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to " + out + ": " + e.getMessage(), e);
    }
  }

  /** One evaluation with the run's generator state left as it was (training continues identically). */
  private static TaskEvaluation evaluate(DownstreamTask<?> task, MPlug model, BertTokenizer tokenizer,
      FinetuneConfig cfg, String when, PrintStream log) {
    GeneratorStates generators = GeneratorStates.capture(model.device());
    long t0 = System.nanoTime();
    try {
      TaskEvaluation e = task.evaluate(model, tokenizer, cfg.eval());
      log.printf(Locale.ROOT, "evaluation (%s): %s in %.1f s%n", when, format(e), (System.nanoTime() - t0) / 1e9);
      return e;
    } finally {
      generators.restore();
    }
  }

  private static String format(TaskEvaluation e) {
    StringBuilder s = new StringBuilder();
    e.metrics().forEach((k, v) -> s.append(s.isEmpty() ? "" : ", ").append(k).append(' ')
        .append(String.format(Locale.ROOT, "%.2f", v)));
    return s.toString();
  }

  /** The untrained / pretrained / fine-tuned table of the task's metrics. */
  public static void printTable(Report r, PrintStream out) {
    out.println();
    boolean untrained = r.untrained() != null;
    out.println(untrained ? "| metric | untrained | pretrained | fine-tuned |" : "| metric | before | after |");
    out.println(untrained ? "| --- | ---: | ---: | ---: |" : "| --- | ---: | ---: |");
    if (r.before() != null) {
      for (String m : r.metrics()) {
        out.printf(Locale.ROOT, "| %s |%s %.2f | %.2f |%n", m,
            untrained ? String.format(Locale.ROOT, " %.2f |", r.untrained().metric(m)) : "", r.before().metric(m),
            r.after().metric(m));
      }
      r.after().notes().forEach((k, v) -> out.println("| " + k + " | not computed: " + v + " |"));
    }
    List<Double> losses = r.summary().losses();
    if (!losses.isEmpty()) {
      int k = Math.min(10, losses.size());
      out.printf(Locale.ROOT, "| training loss (mean of first/last %d steps) |%s %.4f | %.4f |%n", k,
          untrained ? " |" : "", mean(losses.subList(0, k)), mean(losses.subList(losses.size() - k, losses.size())));
    }
    out.printf(Locale.ROOT, "%nsteps %d (skipped %d), %.1f samples/s%n", r.summary().steps(),
        r.summary().skippedSteps(), r.summary().samplesPerSecond());
    out.println("checkpoint: " + r.checkpoint());
    if (r.best() != null) out.println("best checkpoint: " + r.best());
    if (r.results() != null) out.println("results: " + r.results());
    out.println("TensorBoard: tensorboard --logdir " + r.tensorboard());
  }

  private static double mean(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  /** Scores every checkpoint by one metric; keeps the last evaluation so the final one is not repeated. */
  private static final class CheckpointScores implements LongToDoubleFunction {
    private final DownstreamTask<?> task;
    private final MPlug model;
    private final BertTokenizer tokenizer;
    private final FinetuneConfig cfg;
    private final String metric;
    private final PrintStream log;
    private long lastStep = -1;
    private TaskEvaluation last;

    CheckpointScores(DownstreamTask<?> task, MPlug model, BertTokenizer tokenizer, FinetuneConfig cfg, String metric,
        PrintStream log) {
      this.task = task;
      this.model = model;
      this.tokenizer = tokenizer;
      this.cfg = cfg;
      this.metric = metric;
      this.log = log;
    }

    @Override
    public double applyAsDouble(long step) {
      last = evaluate(task, model, tokenizer, cfg, "step " + step, log);
      lastStep = step;
      return last.metric(metric);
    }
  }
}
