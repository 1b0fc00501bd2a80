package dev.mplug.nn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * A BERT attention sub-block: {@code LayerNorm(x + Dropout(dense(MHA(x, source))))}. Registered as {@code attention}
 * (self-attention) or {@code crossattention} (keys/values from the encoder states), with children {@code self}
 * (query/key/value) and {@code output} (dense, LayerNorm).
 */
public final class BertAttention extends ModuleBase {
  private final BertSelfAttention self;
  private final BertResidualOutput output;

  /**
   * @param dropout hidden dropout after the output projection
   * @param attentionDropout dropout on the attention probabilities
   */
  public BertAttention(int hidden, int heads, int keyWidth, double layerNormEps, double dropout,
      double attentionDropout, String name) {
    this.self = child(this, "self", new BertSelfAttention(hidden, heads, keyWidth, attentionDropout, name));
    this.output = child(this, "output", new BertResidualOutput(hidden, hidden, layerNormEps, dropout));
  }

  /** Self-attention: x [B, T, H], mask additive [B, 1, 1 or T, T] or null -> [B, T, H]. */
  public Tensor forward(Tensor x, Tensor mask) {
    return attend(x, self.keysValues(x), mask);
  }

  /** Attention over {@code source} [B, Tk, keyWidth] with an additive mask [B, 1, 1, Tk] -> [B, Tq, H]. */
  public Tensor forward(Tensor x, Tensor source, Tensor mask) {
    return attend(x, self.keysValues(source), mask);
  }

  /** Attention over precomputed (e.g. cached) keys/values -> [B, Tq, H]. */
  public Tensor attend(Tensor x, KeyValues kv, Tensor mask) {
    return output.forward(self.attend(x, kv, mask), x);
  }

  /**
   * The fused path: every stream of {@code queries} attends over all {@code sources} jointly (see
   * {@link BertSelfAttention#attendJointly}), then each stream gets its own output projection, dropout, residual and
   * LayerNorm (row-wise, so per stream is the same as over the concatenation), the last four fused
   * ({@link BertResidualOutput#forwardFused}).
   *
   * @return per query stream [B, Tq_s, H]
   */
  public List<Tensor> forwardJointly(List<Tensor> queries, List<Tensor> sources, List<Tensor> sourceMasks) {
    List<Tensor> context = self.attendJointly(queries, sources, sourceMasks);
    List<Tensor> out = new ArrayList<>();
    for (int s = 0; s < queries.size(); s++) out.add(output.forwardFused(context.get(s), queries.get(s)));
    return out;
  }

  public KeyValues keysValues(Tensor source) {
    return self.keysValues(source);
  }
}
