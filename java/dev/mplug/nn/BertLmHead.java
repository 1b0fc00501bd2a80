package dev.mplug.nn;

import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * BERT's masked/causal LM prediction head ({@code cls.predictions}): {@code transform.dense} -> GELU ->
 * {@code transform.LayerNorm}, then the word-embedding matrix (tied, not a parameter of its own) plus {@code bias}.
 */
public final class BertLmHead extends ModuleBase {
  private final LinearImpl dense;
  private final LayerNormImpl layerNorm;
  private final Tensor bias;
  private final int hidden;

  public BertLmHead(int hidden, int vocab, double layerNormEps) {
    this.hidden = hidden;
    Module transform = container(this, "transform");
    this.dense = linear(transform, "dense", hidden, hidden, true);
    this.layerNorm = layerNorm(transform, "LayerNorm", hidden, layerNormEps);
    this.bias = parameter(this, "bias", torch.zeros(vocab));
  }

  /** hidden states [B, T, H] and the tied word embeddings [V, H] -> logits [B, T, V]. */
  public Tensor forward(Tensor h, Tensor wordEmbeddings) {
    requireShape(h, "cls.predictions input", -1, -1, hidden);
    Tensor t = layerNorm.forward(Activations.gelu(dense.forward(h)));   // [B, T, H]
    return torch.linear(t, wordEmbeddings, new TensorOptional(bias));    // [B, T, V]
  }
}
