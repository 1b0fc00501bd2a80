package dev.mplug.model;

import dev.mplug.nn.BertLayer;
import dev.mplug.nn.FusedAttention;
import dev.mplug.torch.TensorScope;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The asymmetric co-attention layer: only the text stream is updated (self-attention, cross-attention to the visual
 * tokens, FFN); the vision stream passes through unchanged (the same tensor).
 * <pre>
 *   A  = LN(L + Drop(W_o . MHA(L, L, text mask)))
 *   C  = LN(A + Drop(W_o' . MHA(A, V, image mask)))
 *   L' = LN(C + Drop(W_2 . GELU(W_1 . C)));  V' = V
 * </pre>
 * With {@link FusedAttention} on, both attentions run in the native fused kernel (one segment each), and the output
 * blocks' bias, dropout, residual and LayerNorm in one native op each.
 */
public final class CoAttentionLayer extends BertLayer implements FusionLayer {
  public CoAttentionLayer(TextConfig c) {
    super(c.hidden(), c.heads(), c.intermediate(), c.layerNormEps(), c.hiddenDropout(), c.attentionDropout(),
        c.hidden());
  }

  @Override
  public Streams fuse(Tensor image, Tensor text, Tensor imageMask, Tensor textMask) {
    if (FusedAttention.enabledFor(text)) {
      try (TensorScope scope = TensorScope.open()) {
        List<Tensor> l = List.of(text);
        Tensor a = attention.forwardJointly(l, l, List.of(textMask)).getFirst();                          // [B, T, H]
        Tensor c = crossAttention.forwardJointly(List.of(a), List.of(image), List.of(imageMask)).getFirst(); // [B, T, H]
        return new Streams(image, scope.keep(feedForwardFused(c)));  // V untouched
      }
    }
    try (TensorScope scope = TensorScope.open()) {
      Tensor a = attention.forward(text, textMask);                 // [B, T, H]
      Tensor c = crossAttention.forward(a, image, imageMask);       // [B, T, H]
      return new Streams(image, scope.keep(feedForward(c)));        // V untouched
    }
  }
}
