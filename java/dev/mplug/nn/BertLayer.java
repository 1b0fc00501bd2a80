package dev.mplug.nn;

import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.Tensor;

/**
 * A post-LayerNorm BERT layer: self-attention ({@code attention}), optionally cross-attention to encoder states
 * ({@code crossattention}), then the feed-forward ({@code intermediate}, {@code output}):
 * <pre>
 *   A = LN(x + Drop(W_o . MHA(x, x)))
 *   C = LN(A + Drop(W_o' . MHA(A, memory)))        (with cross-attention)
 *   y = LN(C + Drop(W_2 . GELU(W_1 . C)))
 * </pre>
 */
public class BertLayer extends ModuleBase {
  protected final BertAttention attention;
  protected final BertAttention crossAttention;
  protected final BertIntermediate intermediate;
  protected final BertResidualOutput output;
  protected final int hidden;

  /**
   * @param dropout hidden dropout (BERT's hidden_dropout_prob)
   * @param attentionDropout dropout on the attention probabilities (BERT's attention_probs_dropout_prob)
   * @param crossKeyWidth width of the cross-attention key/value input, or 0 for a layer without cross-attention
   */
  public BertLayer(int hidden, int heads, int intermediateSize, double layerNormEps, double dropout,
      double attentionDropout, int crossKeyWidth) {
    this.hidden = hidden;
    this.attention = child(this, "attention",
        new BertAttention(hidden, heads, hidden, layerNormEps, dropout, attentionDropout, "attention"));
    this.crossAttention = crossKeyWidth <= 0 ? null : child(this, "crossattention",
        new BertAttention(hidden, heads, crossKeyWidth, layerNormEps, dropout, attentionDropout,
            "crossattention"));
    this.intermediate = child(this, "intermediate", new BertIntermediate(hidden, intermediateSize));
    this.output = child(this, "output", new BertResidualOutput(intermediateSize, hidden, layerNormEps, dropout));
  }

  /** Encoder layer: x [B, T, H], additive self-attention mask (or null) -> [B, T, H]. */
  public Tensor forward(Tensor x, Tensor mask) {
    try (TensorScope scope = TensorScope.open()) {
      return scope.keep(feedForward(attention.forward(x, mask)));
    }
  }

  /** Decoder / co-attention layer: self-attention, cross-attention to {@code memory} [B, Tm, Hm], FFN. */
  public Tensor forward(Tensor x, Tensor mask, Tensor memory, Tensor memoryMask) {
    if (crossAttention == null) throw new IllegalStateException("this BertLayer has no cross-attention");
    try (TensorScope scope = TensorScope.open()) {
      Tensor a = attention.forward(x, mask);                       // [B, T, H]
      Tensor c = crossAttention.forward(a, memory, memoryMask);    // [B, T, H]
      return scope.keep(feedForward(c));                           // [B, T, H]
    }
  }

  /** {@code LN(x + Drop(W_2 . GELU(W_1 . x)))}: x [B, T, H] -> [B, T, H]. */
  public Tensor feedForward(Tensor x) {
    return output.forward(intermediate.forward(x), x);
  }

  /** {@link #feedForward} with the output block's bias, dropout, residual and LayerNorm fused (CPU). */
  public Tensor feedForwardFused(Tensor x) {
    return output.forwardFused(intermediate.forward(x), x);
  }

  public BertAttention attention() {
    return attention;
  }

  /** The cross-attention block, or null when the layer has none. */
  public BertAttention crossAttention() {
    return crossAttention;
  }
}
