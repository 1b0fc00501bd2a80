package dev.mplug.nn;

import dev.mplug.nativeops.NativeOps;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The attention core shared by every attention block: {@code merge_heads(softmax(q k^T * scale + mask) v)}.
 *
 * <p>Two paths compute it: {@link Impl#COMPOSITE}, the slow obviously-correct reference issued op by op through
 * JavaCPP, and {@link Impl#NATIVE}, one call into the native extension (ATen's fused attention kernel plus the head
 * merge). The path is a process-wide switch ({@link #use}), and a test holds the two together.
 */
public final class AttentionCore {
  /** Which implementation computes the core. */
  public enum Impl {
    COMPOSITE,
    NATIVE
  }

  private static volatile Impl impl = Impl.NATIVE;

  private AttentionCore() {}

  /** Selects the implementation for all later calls; returns the previous one. */
  public static Impl use(Impl next) {
    Impl previous = impl;
    impl = next;
    return previous;
  }

  public static Impl current() {
    return impl;
  }

  /**
   * @param q [B, H, Tq, d]
   * @param k [B, H, Tk, d]
   * @param v [B, H, Tk, d]
   * @param mask null or additive, broadcastable to [B, H, Tq, Tk]
   * @param scale usually 1/sqrt(d)
   * @param causal adds a causal mask (then {@code mask} must be null)
   * @return [B, Tq, H*d]
   */
  public static Tensor apply(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal) {
    return impl == Impl.NATIVE ? NativeOps.attention(q, k, v, mask, scale, causal)
        : composite(q, k, v, mask, scale, causal);
  }

  /** The reference: scores, scale, mask, softmax, weighted sum, head merge; one JavaCPP call each. */
  public static Tensor composite(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal) {
    if (mask != null && causal) throw new IllegalArgumentException("pass either a mask or causal, not both");
    long b = q.size(0), h = q.size(1), tq = q.size(2), d = q.size(3), tk = k.size(2);
    Tensor scores = torch.matmul(q, k.transpose(-2, -1)).mul(new Scalar(scale)); // [B,H,Tq,Tk]
    if (mask != null) scores = scores.add(mask);
    if (causal) scores = scores.add(Masks.causal(tq, tk, q));
    Tensor probs = torch.softmax(scores, -1);                  // [B, H, Tq, Tk]
    Tensor context = torch.matmul(probs, v);                   // [B, H, Tq, d]
    return context.transpose(1, 2).reshape(b, tq, h * d);      // [B, Tq, H*d]
  }
}
