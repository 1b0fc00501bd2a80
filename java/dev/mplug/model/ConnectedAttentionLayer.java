package dev.mplug.model;

import dev.mplug.nn.BertLayer;
import dev.mplug.torch.TensorScope;
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
 * The layer owns cross-attention weights (as every official fusion layer) but does not use them.
 */
public final class ConnectedAttentionLayer extends BertLayer implements FusionLayer {
  public ConnectedAttentionLayer(TextConfig c) {
    super(c.hidden(), c.heads(), c.intermediate(), c.layerNormEps(), c.hiddenDropout(), c.attentionDropout(),
        c.hidden());
  }

  @Override
  public Streams fuse(Tensor image, Tensor text, Tensor imageMask, Tensor textMask) {
    try (TensorScope scope = TensorScope.open()) {
      long nv = image.size(1);
      long t = text.size(1);
      Tensor x = torch.cat(new TensorVector(image, text), 1);            // [B, Nv + T, H]
      Tensor m = torch.cat(new TensorVector(imageMask.expand(image.size(0), 1, 1, nv),
          textMask.expand(text.size(0), 1, 1, t)), 3);                   // [B, 1, 1, Nv + T]
      Tensor y = feedForward(attention.forward(x, m));                   // [B, Nv + T, H]
      Tensor vOut = y.narrow(1, 0, nv);                                  // [B, Nv, H]
      Tensor l = y.narrow(1, nv, t);                                     // [B, T, H]
      return new Streams(scope.keep(image.add(vOut)), scope.keep(l));
    }
  }
}
