package dev.mplug.loss;

import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * ITM: binary matched / not-matched classification of the fusion text-stream CLS (itm_head). The batch is laid out as
 * B positive pairs, then B (negative image, text) pairs, then B (image, negative text) pairs: labels [1]*B + [0]*2B.
 */
public final class ImageTextMatching {
  private ImageTextMatching() {}

  /** Labels for {@code b} positives followed by {@code 2b} negatives, int64 [3B]. */
  public static Tensor labels(long b) {
    Tensor labels = torch.zeros(3 * b).to(torch.ScalarType.Long);
    labels.narrow(0, 0, b).fill_(new Scalar(1));
    return labels;
  }

  /** @param logits [3B, 2] itm_head output in the layout above */
  public static Tensor loss(Tensor logits) {
    if (logits.size(0) % 3 != 0 || logits.size(1) != 2) {
      throw new IllegalArgumentException("ITM logits must be [3B, 2], got " + Tensors.shapeString(logits));
    }
    Tensor labels = labels(logits.size(0) / 3).to(logits.device(), torch.ScalarType.Long);   // on the logits' device
    return torch.cross_entropy_loss(logits, labels, new TensorOptional(), 1, -100, 0.0);
  }
}
