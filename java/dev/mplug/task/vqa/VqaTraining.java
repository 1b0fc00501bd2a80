package dev.mplug.task.vqa;

import dev.mplug.profile.Range;
import dev.mplug.task.FineTuning;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The VQA fine-tuning objective: the weighted answer NLL of {@link VqaHead} (one loss, "vqa"). No momentum
 * distillation: the official VQA run builds the momentum model but never passes its alpha to the decoder, so the soft
 * targets have no effect (MPLUG-SPEC §2, quirks).
 */
public final class VqaTraining extends FineTuning<VqaBatch> {
  private final VqaHead head;

  public VqaTraining(VqaHead head) {
    this(head, "vqa");
  }

  /** The objective of {@code head} (video QA's reads clips), recorded in checkpoints as {@code taskName}. */
  public VqaTraining(VqaHead head, String taskName) {
    super(head.model(), taskName);
    this.head = head;
  }

  @Override
  public Map<String, Tensor> losses(VqaBatch b, long step) {
    try (Range r = Range.open("loss.vqa")) {
      VqaHead.QuestionStates q = head.encode(b.images(), b.questionIds(), b.questionMask());
      return Map.of("vqa", head.forward(q, b.answerIds(), b.answerMask(), b.answerCounts(), b.answerWeights()).loss());
    }
  }

  @Override
  public int batchSize(VqaBatch batch) {
    return batch.size();
  }
}
