package dev.mplug.nn;

import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * BERT's post-LayerNorm residual: {@code LayerNorm(Dropout(dense(h)) + residual)}. Used after attention
 * ({@code attention.output}, dense hidden -> hidden) and after the FFN ({@code output}, dense intermediate -> hidden).
 */
public final class BertResidualOutput extends ModuleBase {
  private final LinearImpl dense;
  private final LayerNormImpl layerNorm;
  private final double dropout;

  public BertResidualOutput(int in, int hidden, double layerNormEps, double dropout) {
    this.dense = linear(this, "dense", in, hidden, true);
    this.layerNorm = layerNorm(this, "LayerNorm", hidden, layerNormEps);
    this.dropout = dropout;
  }

  /** h [B, T, in], residual [B, T, hidden] -> [B, T, hidden]. */
  public Tensor forward(Tensor h, Tensor residual) {
    return layerNorm.forward(dropout(dense.forward(h), dropout).add(residual));
  }
}
