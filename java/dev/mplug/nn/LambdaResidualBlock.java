package dev.mplug.nn;

import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's pre-LayerNorm block with a {@link LambdaLayer} in place of self-attention:
 * {@code x = x + out_proj(lambda(ln_1(x))); x = x + mlp(ln_2(x))}. The lambda layer has content and position
 * lambdas; the position lambdas cover the patch grid (the tokens after the class token).
 */
public final class LambdaResidualBlock extends ModuleBase implements VisionBlock {
  private final LayerNormImpl ln1;
  private final LambdaLayer lambda;
  private final LinearImpl outProj;
  private final LayerNormImpl ln2;
  private final ClipMlp mlp;
  private final int grid;

  /** @param grid patches per side; @param window relative-position window side (odd), 0 for content only */
  public LambdaResidualBlock(int width, int heads, int mlpWidth, double layerNormEps, int keyDepth, int window,
      int grid) {
    this.ln1 = layerNorm(this, "ln_1", width, layerNormEps);
    this.lambda = child(this, "lambda", new LambdaLayer(width, heads, keyDepth, window));
    this.outProj = linear(this, "out_proj", width, width, true);
    this.ln2 = layerNorm(this, "ln_2", width, layerNormEps);
    this.mlp = child(this, "mlp", new ClipMlp(width, mlpWidth));
    this.grid = window > 0 ? grid : 0;
  }

  @Override
  public Tensor forward(Tensor x) {
    try (TensorScope scope = TensorScope.open()) {
      Tensor h = x.add(outProj.forward(lambda.forward(ln1.forward(x), null, grid)));   // [B, T, W]
      h = h.add(mlp.forward(ln2.forward(h)));                                           // [B, T, W]
      return scope.keep(h);
    }
  }
}
