package dev.mplug.nn;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;

/** CLIP's block MLP: {@code c_proj(QuickGELU(c_fc(x)))}, {@code c_fc} widening by the MLP ratio. */
public final class ClipMlp extends ModuleBase {
  private final LinearImpl cFc;
  private final LinearImpl cProj;

  public ClipMlp(int width, int hidden) {
    this.cFc = linear(this, "c_fc", width, hidden, true);
    this.cProj = linear(this, "c_proj", hidden, width, true);
  }

  /** x [B, T, W] -> [B, T, W]. */
  public Tensor forward(Tensor x) {
    return cProj.forward(Activations.quickGelu(cFc.forward(x)));
  }
}
