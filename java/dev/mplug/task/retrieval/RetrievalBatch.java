package dev.mplug.task.retrieval;

import org.bytedeco.pytorch.Tensor;

/**
 * One retrieval training micro-batch: normalised images [B, 3, R, R], the tokenised captions (ids and keep-mask, int64
 * [B, T]) and which image each pair shows ({@code imageIds} [B] int64, the file's image_id numbered in order of first
 * appearance): captions of one image are each other's ITC positives and never ITM negatives.
 */
public record RetrievalBatch(Tensor images, Tensor ids, Tensor mask, Tensor imageIds) {
  public RetrievalBatch {
    if (images.size(0) != ids.size(0) || ids.size(0) != imageIds.size(0)) {
      throw new IllegalArgumentException("batch parts disagree: " + images.size(0) + " images, " + ids.size(0)
          + " token rows, " + imageIds.size(0) + " image ids");
    }
  }

  public int size() {
    return (int) ids.size(0);
  }
}
