package dev.mplug.loss;

import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * ITM hard negatives: for every image one text, and for every text one image, drawn by multinomial sampling from the
 * softmax of the in-batch similarities with the diagonal (the positive) zeroed, so similar-but-wrong pairs are
 * chosen more often.
 */
public final class HardNegatives {
  /** Indices into the batch: the negative text of each image, the negative image of each text. */
  public record Indices(Tensor textForImage, Tensor imageForText) {}

  private HardNegatives() {}

  /**
   * @param simI2t [B, B] image-to-text similarities
   * @param simT2i [B, B] text-to-image similarities
   */
  public static Indices sample(Tensor simI2t, Tensor simT2i) {
    long b = simI2t.size(0);
    if (b < 2) throw new IllegalArgumentException("ITM hard negatives need a batch of at least 2, got " + b);
    try (NoGradGuard guard = new NoGradGuard()) {
      Tensor wI2t = torch.softmax(simI2t.detach().to(torch.ScalarType.Float), 1).add(new Scalar(1e-4));
      wI2t.fill_diagonal_(new Scalar(0.0));
      Tensor wT2i = torch.softmax(simT2i.detach().to(torch.ScalarType.Float), 1).add(new Scalar(1e-4));
      wT2i.fill_diagonal_(new Scalar(0.0));
      Tensor textForImage = torch.multinomial(wI2t, 1, false, new GeneratorOptional()).view(b);   // [B]
      Tensor imageForText = torch.multinomial(wT2i, 1, false, new GeneratorOptional()).view(b);   // [B]
      return new Indices(textForImage, imageForText);
    }
  }
}
