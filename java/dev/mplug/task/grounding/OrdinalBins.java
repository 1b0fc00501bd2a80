package dev.mplug.task.grounding;

import dev.mplug.model.TextDecoder;
import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * An ordinal start for the 337 coordinate tokens ({@code grounding { bin_init: "ordinal" }}; not in the official
 * recipe, which fine-tunes from BERT's unstructured {@code [unused]} rows). Row q of the decoder's word embeddings
 * becomes a sinusoidal code of q:
 *
 * <pre>
 * e_q[2k] = s sin(q w_k),  e_q[2k + 1] = s cos(q w_k),  w_k = 2 pi / (4 x (4 x 337 / 4)^(k / (H/2 - 1)))
 * </pre>
 *
 * wavelengths from 4 bins to 4 x 337 bins, {@code s} such that a row's norm equals the mean norm of the other rows.
 * The embeddings are tied to the LM head, so the logit of bin q for a hidden state near e_p falls off smoothly with
 * |q - p|: neighbouring bins start similar, and a prediction a few bins off costs little to correct. Each bin token is
 * otherwise a class of its own, learnt from the few dozen times a small dataset shows it.
 */
public final class OrdinalBins {
  private static final double SHORTEST_WAVELENGTH = 4.0;

  private OrdinalBins() {}

  /** Overwrites the bin rows of {@code decoder}'s word embeddings in place. */
  public static void write(TextDecoder decoder, BoxTokens tokens) {
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      Tensor table = decoder.wordEmbeddingWeight();                                       // [V, H]
      long h = table.size(1);
      if (h < 2) throw new IllegalArgumentException("grounding.bin_init ordinal needs a hidden size >= 2");
      Tensor rows = code(BoxTokens.TOKENS, h);                                            // [337, H]
      Tensor norms = table.to(torch.ScalarType.Float).square()
          .sum(new long[] {1}, false, new ScalarTypeOptional()).sqrt();                   // [V]
      double others = (norms.sum().item_double() - norms.narrow(0, tokens.firstBinId(), BoxTokens.TOKENS).sum()
          .item_double()) / (table.size(0) - BoxTokens.TOKENS);
      double scale = others / Math.sqrt(h / 2.0);                     // the code's rows have norm sqrt(H/2)
      table.narrow(0, tokens.firstBinId(), BoxTokens.TOKENS).copy_(rows.mul(new Scalar(scale)).to(table.scalar_type()));
    }
  }

  /** The unscaled code [n, H] (float32): sin/cos pairs of q w_k; an odd last column is 0. */
  static Tensor code(int n, long h) {
    long pairs = h / 2;
    Tensor q = torch.arange(new Scalar(n)).to(torch.ScalarType.Float).unsqueeze(1);      // [n, 1]
    Tensor k = torch.arange(new Scalar(pairs)).to(torch.ScalarType.Float);               // [P]
    double longest = 4.0 * n;
    double ratio = Math.log(longest / SHORTEST_WAVELENGTH) / Math.max(1, pairs - 1);
    Tensor wavelength = k.mul(new Scalar(ratio)).exp().mul(new Scalar(SHORTEST_WAVELENGTH)); // [P]
    Tensor angle = q.mul(wavelength.reciprocal().mul(new Scalar(2 * Math.PI)).unsqueeze(0)); // [n, P]
    Tensor pairsOut = torch.stack(new TensorVector(angle.sin(), angle.cos()), 2).reshape(n, pairs * 2); // [n, 2P]
    if (h % 2 == 0) return pairsOut;
    return torch.cat(new TensorVector(pairsOut, torch.zeros(n, 1)), 1);                  // [n, H]
  }
}
