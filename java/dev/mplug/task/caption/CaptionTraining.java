package dev.mplug.task.caption;

import dev.mplug.profile.Range;
import dev.mplug.task.FineTuning;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Cross-entropy fine-tuning of a captioner: the token-mean next-token loss of the captions (teacher forcing). */
public final class CaptionTraining extends FineTuning<CaptionBatch> {
  private final CaptionHead head;

  public CaptionTraining(CaptionHead head) {
    super(head.model(), "caption");
    this.head = head;
  }

  @Override
  public Map<String, Tensor> losses(CaptionBatch batch, long step) {
    try (Range r = Range.open("loss.caption")) {
      return Map.of("caption", head.forward(batch.images(), batch.ids(), batch.mask()).loss());
    }
  }

  @Override
  public int batchSize(CaptionBatch batch) {
    return batch.size();
  }
}
