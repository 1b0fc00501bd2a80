package dev.mplug.nn;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;

/** The first half of BERT's feed-forward: {@code GELU(dense(x))}, hidden -> intermediate, exact (erf) GELU. */
public final class BertIntermediate extends ModuleBase {
  private final LinearImpl dense;

  public BertIntermediate(int hidden, int intermediate) {
    this.dense = linear(this, "dense", hidden, intermediate, true);
  }

  /** x [B, T, hidden] -> [B, T, intermediate]. */
  public Tensor forward(Tensor x) {
    return Activations.gelu(dense.forward(x));
  }
}
