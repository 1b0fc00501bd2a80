package dev.mplug.nn;

import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * BERT's post-LayerNorm residual: {@code LayerNorm(Dropout(dense(h)) + residual)}. Used after attention
 * ({@code attention.output}, dense hidden -> hidden) and after the FFN ({@code output}, dense intermediate -> hidden).
 * {@link #forwardFused} computes the same with the dense layer's bias, dropout, residual and LayerNorm in one native
 * op ({@link ResidualLayerNorm}).
 */
public final class BertResidualOutput extends ModuleBase {
  private final LinearImpl dense;
  private final LayerNormImpl layerNorm;
  private final double dropout;
  private final double layerNormEps;

  public BertResidualOutput(int in, int hidden, double layerNormEps, double dropout) {
    this.dense = linear(this, "dense", in, hidden, true);
    this.layerNorm = layerNorm(this, "LayerNorm", hidden, layerNormEps);
    this.dropout = dropout;
    this.layerNormEps = layerNormEps;
  }

  /** h [B, T, in], residual [B, T, hidden] -> [B, T, hidden]. */
  public Tensor forward(Tensor h, Tensor residual) {
    return layerNorm.forward(dropout(dense.forward(h), dropout).add(residual));
  }

  /**
   * The same on the fused path: the dense product without its bias, then bias, dropout, residual and LayerNorm in
   * {@link ResidualLayerNorm} (float32 or bfloat16 CPU tensors; the dropout mask is the native op's, not ATen's).
   */
  public Tensor forwardFused(Tensor h, Tensor residual) {
    return ResidualLayerNorm.apply(torch.matmul(h, dense.weight().t()), dense.bias(), residual, layerNorm.weight(),
        layerNorm.bias(), layerNormEps, activeDropout(dropout));
  }
}
