package dev.mplug.nn;

import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's pre-LayerNorm transformer block: {@code x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))} (LayerNorm eps 1e-5).
 */
public final class ResidualAttentionBlock extends ModuleBase implements VisionBlock {
  private final LayerNormImpl ln1;
  private final PackedMultiHeadAttention attn;
  private final LayerNormImpl ln2;
  private final ClipMlp mlp;

  /** @param attentionDropout dropout on the attention probabilities while training */
  public ResidualAttentionBlock(int width, int heads, int mlpWidth, double layerNormEps, double attentionDropout) {
    this.attn = child(this, "attn", new PackedMultiHeadAttention(width, heads, attentionDropout));
    this.ln1 = layerNorm(this, "ln_1", width, layerNormEps);
    this.mlp = child(this, "mlp", new ClipMlp(width, mlpWidth));
    this.ln2 = layerNorm(this, "ln_2", width, layerNormEps);
  }

  /** x [B, T, W] -> [B, T, W]. */
  @Override
  public Tensor forward(Tensor x) {
    try (TensorScope scope = TensorScope.open()) {
      Tensor h = x.add(attn.forward(ln1.forward(x)));   // [B, T, W]
      h = h.add(mlp.forward(ln2.forward(h)));           // [B, T, W]
      return scope.keep(h);
    }
  }
}
