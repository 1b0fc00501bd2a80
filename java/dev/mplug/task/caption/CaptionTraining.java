package dev.mplug.task.caption;

import dev.mplug.model.ConfigFile;
import dev.mplug.train.TrainingTask;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Cross-entropy fine-tuning of a captioner: the token-mean next-token loss of the captions (teacher forcing). */
public final class CaptionTraining implements TrainingTask<CaptionBatch> {
  private final CaptionHead head;

  public CaptionTraining(CaptionHead head) {
    this.head = head;
    head.model().train(true);
  }

  @Override
  public Map<String, Tensor> parameters() {
    return head.model().namedParameters();
  }

  @Override
  public Map<String, Tensor> losses(CaptionBatch batch, long step) {
    return Map.of("caption", head.forward(batch.images(), batch.ids(), batch.mask()).loss());
  }

  @Override
  public int batchSize(CaptionBatch batch) {
    return batch.size();
  }

  @Override
  public String taskName() {
    return "caption";
  }

  @Override
  public String configText() {
    return ConfigFile.format(head.model().config());
  }
}
