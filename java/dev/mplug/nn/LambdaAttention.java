package dev.mplug.nn;

import org.bytedeco.pytorch.Tensor;

/**
 * A BERT attention sub-block with a {@link LambdaLayer} in place of multi-head attention:
 * {@code LayerNorm(x + Dropout(dense(lambda(x))))}. Children {@code self} (the lambda layer) and {@code output}
 * (dense, LayerNorm), as {@link BertAttention} names them.
 */
public final class LambdaAttention extends ModuleBase {
  private final LambdaLayer self;
  private final BertResidualOutput output;

  public LambdaAttention(int hidden, int heads, int keyDepth, double layerNormEps, double dropout) {
    this.self = child(this, "self", new LambdaLayer(hidden, heads, keyDepth, 0));
    this.output = child(this, "output", new BertResidualOutput(hidden, hidden, layerNormEps, dropout));
  }

  /** x [B, T, H] (queries and context), additive key mask [B, 1, 1, T] or null -> [B, T, H]. */
  public Tensor forward(Tensor x, Tensor mask) {
    return output.forward(self.forward(x, mask, 0), x);
  }
}
