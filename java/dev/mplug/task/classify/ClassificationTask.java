package dev.mplug.task.classify;

import dev.mplug.data.dataset.Task;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import java.util.EnumSet;
import java.util.List;

/**
 * What SNLI-VE and NLVR2 share as downstream tasks: the encoders and the fusion (no decoder, no ITC/ITM heads), a
 * classifier on the fusion output trained with cross-entropy ({@link ClassificationTraining}), the ALBEF-format files
 * through {@link ClassificationData}, and accuracy ({@link ClassificationEvaluation}). A subclass names the task and
 * builds its head. Neither task has a config section of its own.
 */
public abstract class ClassificationTask implements DownstreamTask<ClassificationBatch> {
  private final FinetuneConfig config;
  private final String name;
  private final Task format;

  /** @param format the annotation format of the task's files */
  protected ClassificationTask(FinetuneConfig config, String name, Task format) {
    this.config = config;
    this.name = name;
    this.format = format;
  }

  /** The task's head over {@code model}, its own parameters registered on the model if they are not there yet. */
  public abstract SentenceClassifier head(MPlug model);

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final EnumSet<Part> parts() {
    return EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION);
  }

  @Override
  public final void extend(MPlug model) {
    head(model);
  }

  @Override
  public final List<String> metrics() {
    return ClassificationEvaluation.METRICS;
  }

  @Override
  public final TrainingTask<ClassificationBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    return new ClassificationTraining(head(model), name);
  }

  @Override
  public final Batches<ClassificationBatch> trainingData(BertTokenizer tokenizer, long seed, int rank,
      int worldSize) {
    return ClassificationData.open(format, config.data(), config.model().vision().imageRes(), tokenizer, seed, rank,
        worldSize);
  }

  @Override
  public final TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    return ClassificationEvaluation.evaluate(head(model), format, tokenizer, set, config.data().maxWords(),
        config.data().maxTokens());
  }
}
