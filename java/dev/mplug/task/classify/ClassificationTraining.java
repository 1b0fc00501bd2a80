package dev.mplug.task.classify;

import dev.mplug.task.FineTuning;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Fine-tuning of a {@link SentenceClassifier}: the cross-entropy of its logits (one loss, "cls"). */
public final class ClassificationTraining extends FineTuning<ClassificationBatch> {
  private final SentenceClassifier head;

  public ClassificationTraining(SentenceClassifier head, String taskName) {
    super(head.model(), taskName);
    this.head = head;
  }

  @Override
  public Map<String, Tensor> losses(ClassificationBatch b, long step) {
    return Map.of("cls", head.forward(b.images(), b.ids(), b.mask(), b.labels()).loss());
  }

  @Override
  public int batchSize(ClassificationBatch batch) {
    return batch.size();
  }
}
