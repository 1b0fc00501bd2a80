package dev.mplug.task.classify;

import org.bytedeco.pytorch.Tensor;

/**
 * One SNLI-VE or NLVR2 training micro-batch: normalised images ([B, 3, R, R], or [B, 2, 3, R, R] for NLVR2's pairs),
 * the tokenised sentences (ids and keep-mask, int64 [B, T]) and the class ids (int64 [B]).
 */
public record ClassificationBatch(Tensor images, Tensor ids, Tensor mask, Tensor labels) {
  public ClassificationBatch {
    if (images.size(0) != ids.size(0) || ids.size(0) != labels.size(0)) {
      throw new IllegalArgumentException("batch parts disagree: " + images.size(0) + " images, " + ids.size(0)
          + " token rows, " + labels.size(0) + " labels");
    }
  }

  public int size() {
    return (int) ids.size(0);
  }
}
