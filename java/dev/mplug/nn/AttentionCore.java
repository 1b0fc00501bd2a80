package dev.mplug.nn;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.torch.Autocast;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The attention core shared by every attention block: {@code merge_heads(dropout(softmax(q k^T * scale + mask)) v)}.
 *
 * <p>Two paths compute it: {@link Impl#COMPOSITE}, the slow obviously-correct reference issued op by op through
 * JavaCPP, and {@link Impl#NATIVE}, one call into the native extension (ATen's fused attention kernel plus the head
 * merge). The path is a process-wide switch ({@link #use}), and a test holds the two together.
 *
 * <p>Both follow one causal rule, bottom-right aligned ({@link Masks#causal}): query i sees keys
 * {@code 0 .. i + (Tk - Tq)}. Attention-probability dropout ({@code dropoutP}, passed by modules only while they train)
 * zeroes each probability with probability p and scales the rest by 1 / (1 - p), drawing from libtorch's default
 * generator, so a seed reproduces the draws of each path. The two paths cannot be made to draw the same mask (the
 * fused kernel samples in its own way, e.g. with Philox offsets on CUDA), so with p &gt; 0 they agree only in
 * expectation, not call by call; tests compare them statistically.
 */
public final class AttentionCore {
  /** Which implementation computes the core. */
  public enum Impl {
    COMPOSITE,
    NATIVE,
    /**
     * The faster path for the precision in force: NATIVE in fp32, COMPOSITE under bf16 autocast, where ATen's fused
     * CPU attention backward falls back to a portable bf16 GEMM while the composite path's matmuls reach oneDNN
     * (measured 2.0-2.4x faster per step for mPLUG-base on an AMX CPU, docs: PERF-NOTES; `./mplug bench --attention`
     * re-measures it).
     */
    AUTO
  }

  private static volatile Impl impl = Impl.AUTO;

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

  /** The path a call made now takes: {@link Impl#AUTO} resolved against the autocast state. */
  public static Impl resolved() {
    return resolvedUnder(Autocast.active());
  }

  /** The path a call would take with CPU autocast on or off. */
  public static Impl resolvedUnder(boolean autocast) {
    Impl i = impl;
    if (i != Impl.AUTO) return i;
    return autocast ? Impl.COMPOSITE : Impl.NATIVE;
  }

  /** {@link #apply(Tensor, Tensor, Tensor, Tensor, double, boolean, double)} without dropout. */
  public static Tensor apply(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal) {
    return apply(q, k, v, mask, scale, causal, 0.0);
  }

  /**
   * @param q [B, H, Tq, d]
   * @param k [B, H, Tk, d]
   * @param v [B, H, Tk, dv]
   * @param mask null or additive, broadcastable to [B, H, Tq, Tk]
   * @param scale usually 1/sqrt(d)
   * @param causal adds the bottom-right causal mask (then {@code mask} must be null; needs Tq &lt;= Tk)
   * @param dropoutP attention-probability dropout in [0, 1); 0 in evaluation
   * @return [B, Tq, H*dv]
   */
  public static Tensor apply(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal,
      double dropoutP) {
    return resolved() == Impl.NATIVE ? NativeOps.attention(q, k, v, mask, scale, causal, dropoutP)
        : composite(q, k, v, mask, scale, causal, dropoutP);
  }

  /** The reference without dropout. */
  public static Tensor composite(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal) {
    return composite(q, k, v, mask, scale, causal, 0.0);
  }

  /** The reference: scores, scale, mask, softmax, dropout, weighted sum, head merge; one JavaCPP call each. */
  public static Tensor composite(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal,
      double dropoutP) {
    if (mask != null && causal) throw new IllegalArgumentException("pass either a mask or causal, not both");
    if (!(dropoutP >= 0 && dropoutP < 1)) {
      throw new IllegalArgumentException("attention dropout must be in [0, 1); got " + dropoutP);
    }
    long b = q.size(0), h = q.size(1), tq = q.size(2), tk = k.size(2), dv = v.size(3);
    Tensor scores = torch.matmul(q, k.transpose(-2, -1)).mul(new Scalar(scale)); // [B, H, Tq, Tk]
    if (mask != null) scores = scores.add(mask);
    if (causal) scores = scores.add(Masks.causal(tq, tk, q));
    Tensor probs = torch.softmax(scores, -1);                  // [B, H, Tq, Tk]
    if (dropoutP > 0) probs = torch.dropout(probs, dropoutP, true); // [B, H, Tq, Tk], kept ones x 1/(1-p)
    Tensor context = torch.matmul(probs, v);                   // [B, H, Tq, dv]
    return context.transpose(1, 2).reshape(b, tq, h * dv);     // [B, Tq, H*dv]
  }
}
