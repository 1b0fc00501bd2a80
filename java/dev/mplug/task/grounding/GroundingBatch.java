package dev.mplug.task.grounding;

import org.bytedeco.pytorch.Tensor;

/**
 * One grounding micro-batch: letterboxed, normalised images [B, 3, R, R], the tokenised expressions (ids and
 * keep-mask, int64 [B, T]) and the target boxes as the decoder learns them: (cx, cy, w, h) divided by the canvas side
 * R, float [B, 4].
 */
public record GroundingBatch(Tensor images, Tensor textIds, Tensor textMask, Tensor targets) {
  public GroundingBatch {
    if (images.size(0) != textIds.size(0) || textIds.size(0) != targets.size(0)) {
      throw new IllegalArgumentException("batch parts disagree: " + images.size(0) + " images, " + textIds.size(0)
          + " token rows, " + targets.size(0) + " boxes");
    }
  }

  public int size() {
    return (int) images.size(0);
  }
}
