package dev.mplug.task.pretrain;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * One pretraining micro-batch: normalised images [B, 3, R, R], the tokenised captions (ids and keep-mask, int64
 * [B, T]) and the cleaned caption strings (prefix LM splits them into words).
 */
public record PretrainBatch(Tensor images, Tensor ids, Tensor mask, List<String> captions) {
  public PretrainBatch {
    if (images.size(0) != ids.size(0) || ids.size(0) != captions.size()) {
      throw new IllegalArgumentException("batch parts disagree: " + images.size(0) + " images, " + ids.size(0)
          + " token rows, " + captions.size() + " captions");
    }
  }

  public int size() {
    return captions.size();
  }
}
