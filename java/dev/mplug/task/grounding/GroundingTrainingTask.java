package dev.mplug.task.grounding;

import dev.mplug.model.ConfigFile;
import dev.mplug.train.TrainingTask;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Fine-tuning for grounding: the weighted box-token loss of {@link GroundingHead} on each micro-batch. */
public final class GroundingTrainingTask implements TrainingTask<GroundingBatch> {
  /** The loss's name in the training log (the official {@code loss_seq}). */
  public static final String LOSS = "box_tokens";

  private final GroundingHead head;

  public GroundingTrainingTask(GroundingHead head) {
    this.head = head;
    head.model().train(true);
  }

  @Override
  public Map<String, Tensor> parameters() {
    return head.model().namedParameters();
  }

  @Override
  public Map<String, Tensor> losses(GroundingBatch batch, long step) {
    return Map.of(LOSS, head.forward(batch.images(), batch.textIds(), batch.textMask(), batch.targets()).loss());
  }

  @Override
  public int batchSize(GroundingBatch batch) {
    return batch.size();
  }

  @Override
  public String taskName() {
    return "grounding";
  }

  @Override
  public String configText() {
    return ConfigFile.format(head.model().config());
  }
}
