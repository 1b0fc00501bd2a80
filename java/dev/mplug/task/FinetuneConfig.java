package dev.mplug.task;

import dev.mplug.model.MPlugConfig;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.train.TrainerConfig;
import dev.mplug.train.proto.FinetuneConfigFile;
import dev.mplug.train.proto.FinetuneData;
import dev.mplug.train.proto.FinetuneEval;
import dev.mplug.train.proto.PretrainInit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A fine-tuning run of one downstream task, resolved and validated before any compute: the task, the model, the
 * training data, the evaluation set, the schedule, the starting weights and where outputs go. Read from a protobuf
 * text file ({@code java/proto/mplug/finetune_config.proto}) plus {@code key=value} overrides. The task's own section
 * ({@code vqa { }}, {@code caption { }}, ...) stays in {@link #file()}; the task validates it when {@link Tasks}
 * builds it.
 *
 * @param eval the evaluation set, or null when the config names none
 * @param bestMetric what checkpoints are scored by when the run evaluates (a metric of the task, or "none");
 *     empty = the task's headline metric
 */
public record FinetuneConfig(String source, String task, MPlugConfig model, Data data, Eval eval, TrainerConfig train,
    PretrainConfig.Init init, Path outputDir, int threads, String bestMetric, FinetuneConfigFile file) {

  /** The training data and how it is batched; {@code annotations} is null for an evaluation-only config. */
  public record Data(Path annotations, Path root, Path vocab, int batchSize, int maxWords, int maxTokens,
      int maxAnswerTokens, int workers, boolean augment, double maxBadFraction) {}

  /** An evaluation set: the task's file with its references, the media root, how much of it, the batch size. */
  public record Eval(Path annotations, Path root, int maxItems, int batchSize) {
    public Eval {
      if (maxItems < 0) throw new IllegalArgumentException("eval.max_items must be >= 0 (0 = all)");
      if (batchSize < 1) throw new IllegalArgumentException("eval.batch_size must be >= 1");
    }

    /** The same set with another annotation file (and its folder as root unless {@code root} is given). */
    public static Eval of(Path annotations, Path root, int maxItems, int batchSize) {
      return new Eval(annotations, root != null ? root : annotations.toAbsolutePath().getParent(), maxItems, batchSize);
    }
  }

  /** Reads a config file (or shipped config name) and applies the overrides. */
  public static FinetuneConfig load(String config, List<String> overrides) {
    FinetuneConfigFile.Builder b = ConfigText.parse(config, overrides, FinetuneConfigFile.newBuilder());
    try {
      return resolve(b.build(), config);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(config + ": " + e.getMessage(), e);
    }
  }

  /** The defaults of {@code task} (no training data): what {@code mplug evaluate} uses without {@code --config}. */
  public static FinetuneConfig defaults(String task, List<String> overrides) {
    FinetuneConfigFile.Builder b = FinetuneConfigFile.newBuilder().setTask(task);
    for (String o : overrides) ConfigText.applyOverride(b, o);
    return resolve(b.build(), "--task " + task);
  }

  static FinetuneConfig resolve(FinetuneConfigFile f, String source) {
    if (!f.hasTask()) throw new IllegalArgumentException("task is required (one of " + Tasks.names() + ")");
    if (!Tasks.names().contains(f.getTask())) {
      throw new IllegalArgumentException("task \"" + f.getTask() + "\" is not one of " + Tasks.names());
    }
    MPlugConfig model = PretrainConfig.modelConfig(f.hasModel() ? f.getModel() : "tiny");
    FinetuneData d = f.getData();
    Path annotations = d.hasAnnotations() ? Path.of(d.getAnnotations()) : null;
    Path root = d.hasRoot() ? Path.of(d.getRoot())
        : annotations != null ? annotations.toAbsolutePath().getParent() : null;
    Path vocab = d.hasVocab() ? Path.of(d.getVocab()) : root != null ? root.resolve("vocab.txt") : null;
    Data data = new Data(annotations, root, vocab, d.hasBatchSize() ? d.getBatchSize() : 8,
        d.hasMaxWords() ? d.getMaxWords() : 30, d.hasMaxTokens() ? d.getMaxTokens() : 32,
        d.hasMaxAnswerTokens() ? d.getMaxAnswerTokens() : 10, d.hasWorkers() ? d.getWorkers() : 2,
        !d.hasAugment() || d.getAugment(), d.hasMaxBadFraction() ? d.getMaxBadFraction() : 0.01);
    if (data.batchSize() < 1) throw new IllegalArgumentException("data.batch_size must be >= 1");
    if (data.maxTokens() < 4) throw new IllegalArgumentException("data.max_tokens must be >= 4");
    if (data.maxTokens() > model.text().maxPositions()) {
      throw new IllegalArgumentException("data.max_tokens = " + data.maxTokens() + " exceeds the model's "
          + "max_position_embeddings = " + model.text().maxPositions());
    }
    if (data.maxAnswerTokens() < 2) throw new IllegalArgumentException("data.max_answer_tokens must be >= 2");
    if (data.workers() < 0) throw new IllegalArgumentException("data.workers must be >= 0");
    if (data.maxBadFraction() < 0 || data.maxBadFraction() > 1) {
      throw new IllegalArgumentException("data.max_bad_fraction must be in [0, 1]");
    }
    FinetuneEval e = f.getEval();
    Eval eval = e.hasAnnotations() ? Eval.of(Path.of(e.getAnnotations()), e.hasRoot() ? Path.of(e.getRoot()) : null,
        e.hasMaxItems() ? e.getMaxItems() : 0, e.hasBatchSize() ? e.getBatchSize() : 16) : null;
    TrainerConfig train = ConfigText.schedule(f.getTrain(), 1000);
    Path out = Path.of(f.hasOutputDir() ? f.getOutputDir() : "runs/" + f.getTask());
    int threads = f.hasThreads() ? f.getThreads() : 0;
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0 (0 = default)");
    PretrainInit i = f.getInit();
    PretrainConfig.Init init = new PretrainConfig.Init(initPath(i.hasVision(), i.getVision()),
        initPath(i.hasText(), i.getText()), initPath(i.hasCheckpoint(), i.getCheckpoint()),
        !i.hasStrict() || i.getStrict());
    String bestMetric = f.getTrain().hasBestMetric() ? f.getTrain().getBestMetric() : "";
    return new FinetuneConfig(source, f.getTask(), model, data, eval, train, init, out, threads, bestMetric, f);
  }

  /** Unset or empty: not used (so {@code --set init.checkpoint=} trains from random weights). */
  private static Path initPath(boolean set, String value) {
    return !set || value.isBlank() ? null : Path.of(value);
  }

  /** Checks the training inputs exist and the output folder is writable; a clear error before any compute. */
  public void checkTrainingInputs() {
    if (data.annotations() == null) throw new IllegalArgumentException(source + ": data.annotations is required");
    if (!Files.isRegularFile(data.annotations())) {
      throw new IllegalArgumentException("data.annotations: " + data.annotations() + " does not exist");
    }
    if (!Files.isDirectory(data.root())) throw new IllegalArgumentException("data.root: " + data.root() + " is not a folder");
    checkVocab();
    if (eval != null) checkEval(eval);
    try {
      Files.createDirectories(outputDir);
      Path probe = Files.createTempFile(outputDir, ".write-test", "");
      Files.delete(probe);
    } catch (IOException ex) {
      throw new IllegalArgumentException("output_dir: " + outputDir + " is not writable (" + ex.getMessage() + ")", ex);
    }
  }

  /** The vocabulary file exists. */
  public void checkVocab() {
    if (data.vocab() == null) throw new IllegalArgumentException(source + ": data.vocab is required (a BERT vocab.txt)");
    if (!Files.isRegularFile(data.vocab())) {
      throw new IllegalArgumentException("data.vocab: " + data.vocab() + " does not exist (a BERT vocab.txt)");
    }
  }

  /** An evaluation set's file and folder exist. */
  public static void checkEval(Eval eval) {
    if (!Files.isRegularFile(eval.annotations())) {
      throw new IllegalArgumentException("eval.annotations: " + eval.annotations() + " does not exist");
    }
    if (!Files.isDirectory(eval.root())) throw new IllegalArgumentException("eval.root: " + eval.root() + " is not a folder");
  }

  /** Checks the files of {@link #init()} exist. */
  public void checkInit() {
    PretrainConfig.checkInitFiles(init);
  }
}
