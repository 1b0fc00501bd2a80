package dev.mplug.task.retrieval;

import dev.mplug.loss.ItmNegatives;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * ITM hard negatives of retrieval fine-tuning: like {@link ItmNegatives}, each image draws one text and each text one
 * image from the softmax of the in-batch similarities, but every pair showing the SAME image is excluded (a batch may
 * hold several captions of one image; calling them negatives would teach the model to reject true matches). No
 * smoothing term is added, as the official retrieval code.
 *
 * <p>Where a row has no weight left (every other pair shows the same image, or the softmax underflowed to zero at a
 * tiny temperature) it draws uniformly among the other images' pairs, and if there are none among all other pairs;
 * the official code would stop there with a multinomial error.
 */
public final class RetrievalNegatives {
  private RetrievalNegatives() {}

  /**
   * @param simI2t [B, B] in-batch image-to-text similarities
   * @param simT2i [B, B] in-batch text-to-image similarities
   * @param imageIds [B] int64, which image each pair shows
   */
  public static ItmNegatives.Indices sample(Tensor simI2t, Tensor simT2i, Tensor imageIds) {
    long b = simI2t.size(0);
    if (b < 2) throw new IllegalArgumentException("ITM hard negatives need a batch of at least 2, got " + b);
    try (NoGradGuard guard = new NoGradGuard()) {
      Tensor ids = imageIds.view(-1, 1);                                           // [B, 1]
      Tensor same = ids.eq(ids.t());                                               // [B, B] bool
      Tensor others = same.logical_not().to(torch.ScalarType.Float);               // [B, B]
      Tensor notSelf = torch.ones_like(others).fill_diagonal_(new Scalar(0.0));    // [B, B]
      Tensor fallback = torch.where(rowSum(others).gt(new Scalar(0)), others, notSelf);
      Tensor textForImage = draw(weights(simI2t, same, fallback), b);             // [B]
      Tensor imageForText = draw(weights(simT2i, same, fallback), b);             // [B]
      return new ItmNegatives.Indices(textForImage, imageForText);
    }
  }

  private static Tensor weights(Tensor sim, Tensor same, Tensor fallback) {
    Tensor w = torch.softmax(sim.detach().to(torch.ScalarType.Float), 1).masked_fill(same, new Scalar(0.0));
    return torch.where(rowSum(w).gt(new Scalar(0)), w, fallback);                 // [B, B]
  }

  private static Tensor rowSum(Tensor w) {
    return w.sum(new long[] {1}, true, new ScalarTypeOptional());                  // [B, 1]
  }

  private static Tensor draw(Tensor weights, long b) {
    return torch.multinomial(weights, 1, false, new GeneratorOptional()).view(b);
  }
}
