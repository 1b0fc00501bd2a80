package dev.mplug.model;

import dev.mplug.nn.BertIntermediate;
import dev.mplug.nn.BertResidualOutput;
import dev.mplug.nn.LambdaAttention;
import dev.mplug.nn.ModuleBase;
import org.bytedeco.pytorch.Tensor;

/**
 * The connected-attention layer with a lambda layer ({@link LambdaAttention}) in place of the joint self-attention over
 * [V; L]: its cost grows linearly with the visual sequence instead of quadratically. Otherwise the layer of
 * {@link ConnectedAttentionLayer}: one FFN for all tokens, then the skip-connection V' = V + V_out.
 * <pre>
 *   X  = [V; L],  M = [image mask; text mask]
 *   A  = LN(X + Drop(W_o . lambda(X, M)))
 *   Y  = LN(A + Drop(W_2 . GELU(W_1 . A)))
 *   V_out, L' = split(Y, [Nv, T]);  V' = V + V_out
 * </pre>
 * An experiment of the project (the open question of the mPLUG notes), not part of the official model.
 */
public final class LambdaConnectedLayer extends ModuleBase implements FusionLayer {
  private final LambdaAttention attention;
  private final BertIntermediate intermediate;
  private final BertResidualOutput output;

  public LambdaConnectedLayer(TextConfig c, LambdaConfig lambda) {
    this.attention = child(this, "attention", new LambdaAttention(c.hidden(), c.heads(), lambda.keyDepth(),
        c.layerNormEps(), c.hiddenDropout()));
    this.intermediate = child(this, "intermediate", new BertIntermediate(c.hidden(), c.intermediate()));
    this.output = child(this, "output", new BertResidualOutput(c.intermediate(), c.hidden(), c.layerNormEps(),
        c.hiddenDropout()));
  }

  @Override
  public Streams fuse(Tensor image, Tensor text, Tensor imageMask, Tensor textMask) {
    return ConnectedAttentionLayer.overJointSequence(image, text, imageMask, textMask, (x, m) -> {
      Tensor a = attention.forward(x, m);                                // [B, Nv + T, H]
      return output.forward(intermediate.forward(a), a);                 // [B, Nv + T, H]
    });
  }
}
