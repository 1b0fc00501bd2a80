package dev.mplug.model;

import dev.mplug.nn.BertLayer;
import dev.mplug.nn.FusedAttention;
import dev.mplug.torch.TensorScope;
import java.util.List;
import java.util.function.BiFunction;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The connected-attention layer: joint self-attention over both streams with the layer's self-attention weights, one
 * FFN for all tokens, then the cross-modal skip-connection, an extra residual on the vision stream only.
 * <pre>
 *   X  = [V; L],  M = [image mask; text mask]
 *   A  = LN(X + Drop(W_o . MHA(X, X, M)))
 *   Y  = LN(A + Drop(W_2 . GELU(W_1 . A)))
 *   V_out, L' = split(Y, [Nv, T]);  V' = V + V_out
 * </pre>
 * The layer owns cross-attention weights (as every official fusion layer) but does not use them. With
 * {@link FusedAttention} on, the attention runs over the two streams as segments, without building X.
 */
public final class ConnectedAttentionLayer extends BertLayer implements FusionLayer {
  public ConnectedAttentionLayer(TextConfig c) {
    super(c.hidden(), c.heads(), c.intermediate(), c.layerNormEps(), c.hiddenDropout(), c.attentionDropout(),
        c.hidden());
  }

  @Override
  public Streams fuse(Tensor image, Tensor text, Tensor imageMask, Tensor textMask) {
    return FusedAttention.enabledFor(text) ? fuseSegmented(image, text, imageMask, textMask)
        : fuseConcatenated(image, text, imageMask, textMask);
  }

  /**
   * The fused path: the joint attention reads the two streams as two segments (no [V; L] tensor), and everything
   * after it is row-wise, so each stream goes through the output projection and the FFN on its own (their bias,
   * dropout, residual and LayerNorm fused in one native op).
   */
  private Streams fuseSegmented(Tensor image, Tensor text, Tensor imageMask, Tensor textMask) {
    try (TensorScope scope = TensorScope.open()) {
      List<Tensor> streams = List.of(image, text);
      List<Tensor> a = attention.forwardJointly(streams, streams, List.of(imageMask, textMask)); // [B, Nv, H], [B, T, H]
      Tensor vOut = feedForwardFused(a.get(0));                          // [B, Nv, H]
      Tensor l = feedForwardFused(a.get(1));                             // [B, T, H]
      return new Streams(scope.keep(image.add(vOut)), scope.keep(l));
    }
  }

  /** The reference path: the equations as written, over the concatenated streams. */
  private Streams fuseConcatenated(Tensor image, Tensor text, Tensor imageMask, Tensor textMask) {
    return overJointSequence(image, text, imageMask, textMask, (x, m) -> feedForward(attention.forward(x, m)));
  }

  /**
   * The connected layer's frame around any {@code layer} over the joint sequence: X = [V; L] with its mask
   * [B, 1, 1, Nv + T], Y = layer(X, M), split into V_out and L', and the skip-connection V' = V + V_out.
   */
  static Streams overJointSequence(Tensor image, Tensor text, Tensor imageMask, Tensor textMask,
      BiFunction<Tensor, Tensor, Tensor> layer) {
    try (TensorScope scope = TensorScope.open()) {
      long nv = image.size(1);
      long t = text.size(1);
      Tensor x = torch.cat(new TensorVector(image, text), 1);            // [B, Nv + T, H]
      Tensor m = torch.cat(new TensorVector(imageMask.expand(image.size(0), 1, 1, nv),
          textMask.expand(text.size(0), 1, 1, t)), 3);                   // [B, 1, 1, Nv + T]
      Tensor y = layer.apply(x, m);                                      // [B, Nv + T, H]
      Tensor vOut = y.narrow(1, 0, nv);                                  // [B, Nv, H]
      Tensor l = y.narrow(1, nv, t);                                     // [B, T, H]
      return new Streams(scope.keep(image.add(vOut)), scope.keep(l));
    }
  }
}
