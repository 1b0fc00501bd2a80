package dev.mplug.nn;

import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * CLIP's multi-head self-attention ({@code torch.nn.MultiheadAttention}): q, k, v are the three row blocks of one packed
 * {@code in_proj_weight [3W, W]} / {@code in_proj_bias [3W]}, then {@code out_proj}. No mask (every image token
 * sees every other); dropout on the attention probabilities while training (its {@code dropout} argument).
 */
public final class PackedMultiHeadAttention extends ModuleBase {
  private final int width;
  private final int heads;
  private final Tensor inProjWeight;
  private final Tensor inProjBias;
  private final LinearImpl outProj;
  private final double attentionDropout;

  /** @param attentionDropout dropout on the attention probabilities while training, in [0, 1) */
  public PackedMultiHeadAttention(int width, int heads, double attentionDropout) {
    if (width % heads != 0) throw new IllegalArgumentException("width " + width + " not divisible by heads " + heads);
    if (!(attentionDropout >= 0 && attentionDropout < 1)) {
      throw new IllegalArgumentException("attn: attention dropout must be in [0, 1); got " + attentionDropout);
    }
    this.attentionDropout = attentionDropout;
    this.width = width;
    this.heads = heads;
    this.inProjWeight = parameter(this, "in_proj_weight", torch.randn(3L * width, width).mul_(
        new Scalar(INIT_STD)));
    this.inProjBias = parameter(this, "in_proj_bias", torch.zeros(3L * width));
    this.outProj = linear(this, "out_proj", width, width, true);
  }

  /** x [B, T, W] -> [B, T, W]. */
  public Tensor forward(Tensor x) {
    requireShape(x, "attn (CLIP attention)", -1, -1, width);
    try (TensorScope scope = TensorScope.open()) {
      long b = x.size(0), t = x.size(1), d = width / heads;
      Tensor qkv = torch.linear(x, inProjWeight, new TensorOptional(inProjBias)); // [B, T, 3W]
      qkv = qkv.view(b, t, 3, heads, d).permute(2, 0, 3, 1, 4);   // [3, B, h, T, d]
      Tensor context = AttentionCore.apply(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2), null,
          1.0 / Math.sqrt(d), false, activeDropout(attentionDropout)); // [B, T, W]
      return scope.keep(outProj.forward(context));                // [B, T, W]
    }
  }
}
