package dev.mplug.task;

import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlug;
import dev.mplug.train.TrainingTask;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What every downstream task's training objective shares: it trains all parameters of one {@link MPlug} (put in train
 * mode here), stores that model's config with checkpoints, and records its task's name there. A subclass adds the
 * losses of a micro-batch.
 */
public abstract class FineTuning<B> implements TrainingTask<B> {
  private final MPlug model;
  private final String taskName;

  protected FineTuning(MPlug model, String taskName) {
    this.model = model;
    this.taskName = taskName;
    model.train(true);
  }

  @Override
  public final Map<String, Tensor> parameters() {
    return model.namedParameters();
  }

  @Override
  public final String taskName() {
    return taskName;
  }

  @Override
  public final String configText() {
    return ConfigFile.format(model.config());
  }
}
