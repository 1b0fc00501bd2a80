package dev.mplug.task.snlive;

import dev.mplug.data.dataset.Task;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.classify.ClassificationTask;
import dev.mplug.task.classify.SentenceClassifier;

/**
 * Visual entailment (SNLI-VE, {@code --task snli-ve}): does the image entail, contradict or leave open the
 * hypothesis. ALBEF's {@code ve_train/dev/test.json} files ({@code image, sentence, label}), the three-way
 * classifier of {@link SnliVeHead}, accuracy.
 */
public final class SnliVeTask extends ClassificationTask {
  public static final String NAME = "snli-ve";

  public SnliVeTask(FinetuneConfig config) {
    super(config, NAME, Task.SNLI_VE);
  }

  @Override
  public SentenceClassifier head(MPlug model) {
    return new SnliVeHead(model);
  }
}
