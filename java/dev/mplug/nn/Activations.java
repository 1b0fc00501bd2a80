package dev.mplug.nn;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The two activations of mPLUG: CLIP's QuickGELU in the vision transformer, the exact (erf) GELU in BERT. */
public final class Activations {
  private static final double QUICK_GELU_SLOPE = 1.702;

  private Activations() {}

  /** {@code x * sigmoid(1.702 x)}, CLIP's approximation (the CLIP weights were trained with it). */
  public static Tensor quickGelu(Tensor x) {
    return x.mul(torch.sigmoid(x.mul(new Scalar(QUICK_GELU_SLOPE))));
  }

  /** {@code x * Phi(x)} with the exact normal CDF (BERT's "gelu", not the tanh approximation). */
  public static Tensor gelu(Tensor x) {
    return torch.gelu(x);
  }
}
