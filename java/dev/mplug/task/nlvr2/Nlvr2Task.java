package dev.mplug.task.nlvr2;

import dev.mplug.data.dataset.Task;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.classify.ClassificationTask;
import dev.mplug.task.classify.SentenceClassifier;

/**
 * Natural-language visual reasoning over image pairs (NLVR2, {@code --task nlvr2}): is the statement true of the
 * left and right image. ALBEF's {@code nlvr_train/dev/test.json} files ({@code images: [left, right], sentence,
 * label "True" | "False"}), the head of {@link Nlvr2Head} (read its choice of design), accuracy.
 */
public final class Nlvr2Task extends ClassificationTask {
  public static final String NAME = "nlvr2";

  public Nlvr2Task(FinetuneConfig config) {
    super(config, NAME, Task.NLVR2);
  }

  @Override
  public SentenceClassifier head(MPlug model) {
    return new Nlvr2Head(model);
  }
}
