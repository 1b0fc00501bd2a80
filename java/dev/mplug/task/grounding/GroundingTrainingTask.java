package dev.mplug.task.grounding;

import dev.mplug.profile.Range;
import dev.mplug.task.FineTuning;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Fine-tuning for grounding: the weighted box-token loss of {@link GroundingHead} on each micro-batch. */
public final class GroundingTrainingTask extends FineTuning<GroundingBatch> {
  /** The loss's name in the training log (the official {@code loss_seq}). */
  public static final String LOSS = "box_tokens";

  private final GroundingHead head;

  public GroundingTrainingTask(GroundingHead head) {
    super(head.model(), GroundingTask.NAME);
    this.head = head;
  }

  @Override
  public Map<String, Tensor> losses(GroundingBatch batch, long step) {
    try (Range r = Range.open("loss.box_tokens")) {
      return Map.of(LOSS, head.forward(batch.images(), batch.textIds(), batch.textMask(), batch.targets()).loss());
    }
  }

  @Override
  public int batchSize(GroundingBatch batch) {
    return batch.size();
  }
}
