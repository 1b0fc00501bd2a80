package dev.mplug.nn;

import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A multi-query lambda layer (Bello, ICLR 2021) over a sequence x [B, n, W] that is its own context: it summarises
 * the context into small linear maps (lambdas) and applies them to each query, so its cost is linear in n where
 * attention's is quadratic.
 * <pre>
 *   Q = x W_Q   [B, n, h, k]       (h heads of key depth k)
 *   K = x W_K   [B, n, k]          (one key and one value projection shared by the heads)
 *   V = x W_V   [B, n, v]          (v = W / h)
 *   K' = softmax over the n context positions of (K + mask)      (padding keys get weight 0)
 *   content lambda   L_c   = K'^T V                     [B, k, v]
 *   position lambdas L_p,i = sum_j E[j - i]^T V_j       [B, k, v] per grid position i (patch tokens only), E the
 *                    relative position embeddings [window, window, k] over the patch grid, zero outside it
 *   y_i = concat over heads of (L_c + L_p,i)^T Q_i,h    [B, n, h v] = [B, n, W]
 * </pre>
 * The position lambdas are the paper's "lambda convolution": a 3D convolution of V (laid out on the grid) with E as
 * kernel, so their cost is n x window^2 x k x v, also linear in n. Tokens before the last grid^2 ones (the class token)
 * get the content lambda only. Following the paper the projections have no bias; its batch normalisation of queries
 * and values is left out (the surrounding blocks' LayerNorms normalise the input).
 */
public final class LambdaLayer extends ModuleBase {
  private final int width;
  private final int heads;
  private final int keyDepth;
  private final int window;
  private final LinearImpl query;
  private final LinearImpl key;
  private final LinearImpl value;
  private final Tensor positionEmbedding;   // [k, 1, 1, window, window]: E as a convolution kernel, or null

  /**
   * @param window side of the relative-position neighbourhood over the patch grid (odd), or 0 for the content lambda
   *     only
   */
  public LambdaLayer(int width, int heads, int keyDepth, int window) {
    if (width % heads != 0) throw new IllegalArgumentException("width " + width + " not divisible by heads " + heads);
    if (keyDepth < 1) throw new IllegalArgumentException("lambda key depth must be positive, got " + keyDepth);
    if (window < 0 || (window > 0 && window % 2 == 0)) {
      throw new IllegalArgumentException("lambda position window must be 0 or odd, got " + window);
    }
    this.width = width;
    this.heads = heads;
    this.keyDepth = keyDepth;
    this.window = window;
    this.query = linear(this, "query", width, (long) heads * keyDepth, false);
    this.key = linear(this, "key", width, keyDepth, false);
    this.value = linear(this, "value", width, width / heads, false);
    this.positionEmbedding = window == 0 ? null : parameter(this, "position_embedding",
        torch.randn(keyDepth, 1, 1, window, window).mul_(new Scalar(INIT_STD)));
  }

  /**
   * @param x [B, n, W], queries and context at once
   * @param mask additive key mask [B, 1, 1, n] (0 = keep, large negative = padding), or null
   * @param grid patches per side of the grid formed by the last grid^2 tokens (position lambdas), or 0 for none
   * @return [B, n, W]
   */
  public Tensor forward(Tensor x, Tensor mask, int grid) {
    requireShape(x, "lambda layer", -1, -1, width);
    if (grid > 0 && positionEmbedding == null) {
      throw new IllegalArgumentException("lambda layer: position lambdas need a position window > 0");
    }
    try (TensorScope scope = TensorScope.open()) {
      long b = x.size(0), n = x.size(1), v = width / heads;
      Tensor q = query.forward(x).view(b, n, heads, keyDepth);                  // [B, n, h, k]
      Tensor keys = key.forward(x);                                             // [B, n, k]
      if (mask != null) keys = keys.add(mask.view(b, n, 1));
      Tensor values = value.forward(x);                                         // [B, n, v]
      Tensor content = torch.softmax(keys, 1).transpose(1, 2).bmm(values);     // [B, k, v]
      Tensor y = q.view(b, n * heads, keyDepth).bmm(content).view(b, n, heads, v);   // [B, n, h, v]
      if (grid > 0) y = withPositions(q, values, y, grid);
      return scope.keep(y.reshape(b, n, width));                               // [B, n, W]
    }
  }

  /** y plus the position lambdas' part for the last grid^2 tokens. */
  private Tensor withPositions(Tensor q, Tensor values, Tensor y, int grid) {
    long b = q.size(0), n = q.size(1), p = (long) grid * grid, v = width / heads;
    if (p > n) throw new IllegalArgumentException("lambda layer: grid " + grid + "^2 exceeds " + n + " tokens");
    Tensor patches = values.narrow(1, n - p, p).transpose(1, 2).reshape(b, 1, v, grid, grid);  // [B, 1, v, g, g]
    long pad = window / 2;
    Tensor lambdas = torch.conv3d(patches, positionEmbedding, new TensorOptional(), new long[] {1, 1, 1},
        new long[] {0, pad, pad}, new long[] {1, 1, 1}, 1)                      // [B, k, v, g, g]
        .view(b, keyDepth, v, p).permute(0, 3, 1, 2);                           // [B, P, k, v]
    Tensor positional = q.narrow(1, n - p, p).matmul(lambdas);                  // [B, P, h, v]
    if (p == n) return y.add(positional);
    return torch.cat(new TensorVector(y.narrow(1, 0, n - p), y.narrow(1, n - p, p).add(positional)), 1);
  }
}
