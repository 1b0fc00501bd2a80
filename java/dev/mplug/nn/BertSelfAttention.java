package dev.mplug.nn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * BERT's multi-head attention core with separate {@code query}, {@code key}, {@code value} projections: queries from
 * the input, keys and values from the input (self-attention) or from another sequence (cross-attention); additive
 * mask; dropout on the attention probabilities while training; heads concatenated. Head h uses features
 * {@code h*d .. (h+1)*d-1}.
 */
public final class BertSelfAttention extends ModuleBase {
  private final LinearImpl query;
  private final LinearImpl key;
  private final LinearImpl value;
  private final int hidden;
  private final int keyWidth;
  private final int heads;
  private final double attentionDropout;
  private final String name;

  /**
   * @param keyWidth width of the key/value input (hidden for self-attention, the encoder width for cross-attention)
   * @param attentionDropout dropout on the attention probabilities while training (BERT's
   *     attention_probs_dropout_prob)
   * @param name how errors call this block, e.g. "crossattention"
   */
  public BertSelfAttention(int hidden, int heads, int keyWidth, double attentionDropout, String name) {
    if (hidden % heads != 0) throw new IllegalArgumentException(name + ": hidden " + hidden + " % heads " + heads);
    if (!(attentionDropout >= 0 && attentionDropout < 1)) {
      throw new IllegalArgumentException(name + ": attention dropout must be in [0, 1); got " + attentionDropout);
    }
    this.attentionDropout = attentionDropout;
    this.hidden = hidden;
    this.keyWidth = keyWidth;
    this.heads = heads;
    this.name = name;
    this.query = linear(this, "query", hidden, hidden, true);
    this.key = linear(this, "key", keyWidth, hidden, true);
    this.value = linear(this, "value", keyWidth, hidden, true);
  }

  /** Keys and values of {@code source} [B, Tk, keyWidth], split into heads: [B, h, Tk, d] each. */
  public KeyValues keysValues(Tensor source) {
    requireShape(source, name + " key/value input", -1, -1, keyWidth);
    return new KeyValues(split(key.forward(source)), split(value.forward(source)));
  }

  /**
   * @param x queries' input [B, Tq, hidden]
   * @param kv keys and values [B, h, Tk, d]
   * @param mask null or additive, broadcastable to [B, h, Tq, Tk]
   * @return [B, Tq, hidden]
   */
  public Tensor attend(Tensor x, KeyValues kv, Tensor mask) {
    requireShape(x, name + " input", -1, -1, hidden);
    Tensor q = split(query.forward(x));                                             // [B, h, Tq, d]
    return AttentionCore.apply(q, kv.keys(), kv.values(), mask, 1.0 / Math.sqrt(hidden / heads), false,
        activeDropout(attentionDropout));                                           // [B, Tq, H]
  }

  /**
   * The fused path ({@link FusedAttention}): the queries of every stream in {@code queries} attend jointly over the
   * keys and values of every stream in {@code sources}, as if each list were concatenated along the sequence, without
   * concatenating them. A stream that appears in both lists is projected once per role.
   *
   * @param queries per stream [B, Tq_s, hidden]
   * @param sources per stream [B, Tk_s, keyWidth]
   * @param sourceMasks per source stream an additive key mask broadcastable to [B, 1, 1, Tk_s], or null
   * @return per query stream [B, Tq_s, hidden]
   */
  public List<Tensor> attendJointly(List<Tensor> queries, List<Tensor> sources, List<Tensor> sourceMasks) {
    List<Tensor> q = new ArrayList<>(), k = new ArrayList<>(), v = new ArrayList<>();
    for (Tensor x : queries) {
      requireShape(x, name + " input", -1, -1, hidden);
      q.add(split(query.forward(x)));                                               // [B, h, Tq_s, d]
    }
    for (Tensor source : sources) {
      KeyValues kv = keysValues(source);                                            // [B, h, Tk_s, d] each
      k.add(kv.keys());
      v.add(kv.values());
    }
    return FusedAttention.apply(q, k, v, sourceMasks, 1.0 / Math.sqrt(hidden / heads),
        activeDropout(attentionDropout));                                           // [B, Tq_s, H] each
  }

  private Tensor split(Tensor x) {                                                  // [B, T, H]
    return x.view(x.size(0), x.size(1), heads, hidden / heads).transpose(1, 2);    // [B, h, T, d]
  }
}
