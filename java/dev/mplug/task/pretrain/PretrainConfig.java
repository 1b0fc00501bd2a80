package dev.mplug.task.pretrain;

import dev.mplug.loss.Distillation;
import dev.mplug.loss.ItmNegatives;
import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlugConfig;
import dev.mplug.task.ConfigText;
import dev.mplug.train.TrainerConfig;
import dev.mplug.train.proto.PretrainConfigFile;
import dev.mplug.train.proto.PretrainData;
import dev.mplug.train.proto.PretrainInit;
import dev.mplug.train.proto.PretrainObjectives;
import dev.mplug.train.proto.PretrainSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A pretraining run, fully resolved and validated before any compute: the model config, the data, the schedule, the
 * objectives and where outputs go. Read from a protobuf text file ({@code java/proto/mplug/pretrain_config.proto})
 * plus {@code key=value} overrides with the same field names ({@code train.lr=1e-4}).
 *
 * <p>A config or model path is a file, or the name of a file shipped in the jar under {@code configs/}
 * ({@code pretrain-tiny}, {@code model-demo}, ...).
 *
 * @param init the starting weights of a fresh run ({@code init { vision text checkpoint strict }})
 * @param bestMetric what checkpoints are scored by when the run evaluates ({@code train.best_metric}; "none": not)
 */
public record PretrainConfig(String source, MPlugConfig model, Data data, TrainerConfig train, Objectives objectives,
    Path outputDir, int threads, Init init, String bestMetric) {

  /** Where the images and captions come from and how they are batched. */
  public record Data(Path annotations, Path root, Path vocab, int batchSize, int maxWords, int maxTokens, int workers,
      boolean augment, double maxBadFraction) {}

  /**
   * The starting weights of a fresh run (null paths: not used): CLIP for the vision encoder and BERT for the text
   * modules, or a whole mPLUG checkpoint instead of both. Ignored on {@code --resume}.
   *
   * @param strict fail when a parameter the file should fill is missing or a key is unexplained (else report them)
   */
  public record Init(Path vision, Path text, Path checkpoint, boolean strict) {
    public Init {
      if (checkpoint != null && (vision != null || text != null)) {
        throw new IllegalArgumentException("init.checkpoint excludes init.vision and init.text (a checkpoint holds the "
            + "whole model; CLIP + BERT is the other way to start)");
      }
    }

    public boolean isEmpty() {
      return vision == null && text == null && checkpoint == null;
    }
  }

  /** Reads a config file (or shipped config name) and applies the overrides. */
  public static PretrainConfig load(String config, List<String> overrides) {
    PretrainConfigFile.Builder b = ConfigText.parse(config, overrides, PretrainConfigFile.newBuilder());
    try {
      return resolve(b.build(), config);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(config + ": " + e.getMessage(), e);
    }
  }

  static PretrainConfig resolve(PretrainConfigFile f, String source) {
    MPlugConfig model = modelConfig(f.hasModel() ? f.getModel() : "tiny");
    PretrainData d = f.getData();
    if (!d.hasAnnotations()) throw new IllegalArgumentException("data.annotations is required");
    Path annotations = Path.of(d.getAnnotations());
    Path root = d.hasRoot() ? Path.of(d.getRoot()) : annotations.toAbsolutePath().getParent();
    Path vocab = d.hasVocab() ? Path.of(d.getVocab()) : root.resolve("vocab.txt");
    Data data = new Data(annotations, root, vocab, d.hasBatchSize() ? d.getBatchSize() : 8,
        d.hasMaxWords() ? d.getMaxWords() : 30, d.hasMaxTokens() ? d.getMaxTokens() : 32,
        d.hasWorkers() ? d.getWorkers() : 2, !d.hasAugment() || d.getAugment(),
        d.hasMaxBadFraction() ? d.getMaxBadFraction() : 0.01);
    if (data.batchSize() < 2) throw new IllegalArgumentException("data.batch_size must be >= 2 (ITM needs negatives)");
    if (data.maxTokens() < 4) throw new IllegalArgumentException("data.max_tokens must be >= 4");
    if (data.maxTokens() > model.text().maxPositions()) {
      throw new IllegalArgumentException("data.max_tokens = " + data.maxTokens() + " exceeds the model's "
          + "max_position_embeddings = " + model.text().maxPositions());
    }
    if (data.workers() < 0) throw new IllegalArgumentException("data.workers must be >= 0");

    PretrainSchedule s = f.getTrain();
    TrainerConfig train = ConfigText.schedule(s, 1000);

    PretrainObjectives o = f.getObjectives();
    Objectives.Builder ob = Objectives.builder().alphaRampSteps(Math.min(1000, train.totalSteps() / 5));
    if (o.hasItc()) ob.itc(o.getItc());
    if (o.hasItm()) ob.itm(o.getItm());
    if (o.hasMlm()) ob.mlm(o.getMlm());
    if (o.hasPrefixLm()) ob.prefixLm(o.getPrefixLm());
    if (o.hasAlpha()) ob.alpha(o.getAlpha());
    if (o.hasAlphaRampSteps()) ob.alphaRampSteps(o.getAlphaRampSteps());
    if (o.hasMomentum()) ob.momentum(o.getMomentum());
    if (o.hasQueueSize()) ob.queueSize(o.getQueueSize());
    if (o.hasMaskProb()) ob.maskProbability(o.getMaskProb());
    if (o.getOfficialDistillAxis()) ob.distillAxis(Distillation.Axis.OFFICIAL_SEQUENCE);
    if (o.hasTempLrScale()) ob.tempLrScale(o.getTempLrScale());
    if (o.hasItmNegatives()) ob.itmNegatives(ItmNegatives.Choice.of(o.getItmNegatives()));
    if (o.hasMvmWeight() || o.hasMvmMaskRatio() || o.hasMvmMask() || o.hasMvmTarget()) {
      MaskedVisionSettings off = MaskedVisionSettings.OFF;
      ob.mvm(new MaskedVisionSettings(o.hasMvmWeight() ? o.getMvmWeight() : off.weight(),
          o.hasMvmMaskRatio() ? o.getMvmMaskRatio() : off.maskRatio(),
          o.hasMvmMask() ? MaskedVisionSettings.shape(o.getMvmMask()) : off.shape(),
          o.hasMvmTarget() ? MaskedVisionSettings.target(o.getMvmTarget()) : off.target()));
    }
    Objectives objectives = ob.build();
    if (objectives.queueSize() < data.batchSize()) {
      throw new IllegalArgumentException("objectives.queue_size = " + objectives.queueSize()
          + " is smaller than data.batch_size = " + data.batchSize());
    }
    Path out = Path.of(f.hasOutputDir() ? f.getOutputDir() : "runs/pretrain");
    int threads = f.hasThreads() ? f.getThreads() : 0;
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0 (0 = default)");
    PretrainInit i = f.getInit();
    Init init = new Init(initPath(i.hasVision(), i.getVision()), initPath(i.hasText(), i.getText()),
        initPath(i.hasCheckpoint(), i.getCheckpoint()), !i.hasStrict() || i.getStrict());
    String bestMetric = s.hasBestMetric() ? s.getBestMetric() : "r_mean";
    if (!bestMetric.equals("none") && !PretrainEvaluation.METRICS.contains(bestMetric)) {
      throw new IllegalArgumentException("train.best_metric = \"" + bestMetric + "\" is not one of "
          + String.join(", ", PretrainEvaluation.METRICS) + ", none");
    }
    return new PretrainConfig(source, model, data, train, objectives, out, threads, init, bestMetric);
  }

  /** Unset or empty: not used (so {@code --set init.vision=} turns off a config's CLIP file). */
  private static Path initPath(boolean set, String value) {
    return !set || value.isBlank() ? null : Path.of(value);
  }

  public static MPlugConfig modelConfig(String spec) {
    if (List.of("tiny", "base", "large").contains(spec)) return MPlugConfig.preset(spec);
    return ConfigFile.parse(ConfigText.read(spec), spec);
  }

  /** Checks the files of {@link #init()} exist (a fresh run reads them; {@code --resume} does not). */
  public void checkInit() {
    checkInitFiles(init);
  }

  /** Checks the files of an {@code init} section exist (fine-tuning shares the section). */
  public static void checkInitFiles(Init init) {
    checkInitFile("vision", init.vision(), false);
    checkInitFile("text", init.text(), false);
    checkInitFile("checkpoint", init.checkpoint(), true);
  }

  private static void checkInitFile(String key, Path p, boolean folderAllowed) {
    if (p == null) return;
    if (!Files.exists(p)) throw new IllegalArgumentException("init." + key + ": " + p + " does not exist");
    if (Files.isDirectory(p) && !folderAllowed) {
      throw new IllegalArgumentException("init." + key + ": " + p + " is a folder, not a state dict file");
    }
  }

  /** Checks the inputs exist and the output folder is writable; a clear error before any compute. */
  public void checkInputsAndOutputs() {
    if (!Files.isRegularFile(data.annotations())) {
      throw new IllegalArgumentException("data.annotations: " + data.annotations() + " does not exist");
    }
    if (!Files.isDirectory(data.root())) throw new IllegalArgumentException("data.root: " + data.root() + " is not a folder");
    if (!Files.isRegularFile(data.vocab())) {
      throw new IllegalArgumentException("data.vocab: " + data.vocab() + " does not exist (a BERT vocab.txt)");
    }
    try {
      Files.createDirectories(outputDir);
      Path probe = Files.createTempFile(outputDir, ".write-test", "");
      Files.delete(probe);
    } catch (IOException e) {
      throw new IllegalArgumentException("output_dir: " + outputDir + " is not writable (" + e.getMessage() + ")", e);
    }
  }
}
