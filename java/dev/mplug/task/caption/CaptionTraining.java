package dev.mplug.task.caption;

import dev.mplug.profile.Range;
import dev.mplug.task.FineTuning;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Cross-entropy fine-tuning of a captioner: the token-mean next-token loss of the captions (teacher forcing). */
public final class CaptionTraining extends FineTuning<CaptionBatch> {
  private final CaptionHead head;

  public CaptionTraining(CaptionHead head) {
    this(head, "caption");
  }

  /** The objective of {@code head} (video captioning's reads clips), recorded in checkpoints as {@code taskName}. */
  public CaptionTraining(CaptionHead head, String taskName) {
    super(head.model(), taskName);
    this.head = head;
  }

  @Override
  public Map<String, Tensor> losses(CaptionBatch batch, long step) {
    try (Range r = Range.open("loss.caption")) {
      return Map.of("caption", head.loss(batch.images(), batch.ids(), batch.mask()));
    }
  }

  @Override
  public int batchSize(CaptionBatch batch) {
    return batch.size();
  }
}
