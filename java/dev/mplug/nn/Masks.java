package dev.mplug.nn;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Additive attention masks as mPLUG builds them: 1 = keep, 0 = padding in the input; a masked self-attention key gets
 * -10000, a masked cross-attention (image / encoder) key -1e9. After softmax both are exactly zero in float32.
 */
public final class Masks {
  /** Added to masked self-attention (text and causal) keys. */
  public static final double SELF_ATTENTION_MASKED = -10000.0;
  /** Added to masked cross-attention (image / encoder) keys. */
  public static final double CROSS_ATTENTION_MASKED = -1e9;

  private Masks() {}

  /** [B, T] keep-mask (1/0, any dtype) -> additive [B, 1, 1, T] float mask with {@code masked} on padding. */
  public static Tensor additive(Tensor keep, double masked, Tensor like) {
    Tensor k = keep.to(like.scalar_type());
    Tensor add = k.neg().add(new Scalar(1.0)).mul(new Scalar(masked));   // (1 - keep) * masked
    return add.unsqueeze(1).unsqueeze(1);                                 // [B, 1, 1, T]
  }

  /**
   * [tq, tk] additive causal mask in the dtype and device of {@code like}, aligned bottom-right: query i sees keys
   * {@code 0 .. i + (tk - tq)}, i.e. the queries are the LAST tq positions of the key sequence (a decoder step over
   * cached keys; tq == tk is the ordinary lower triangle). The one causal rule of both attention paths (the native op
   * follows it too). tq &gt; tk is rejected: the first queries would see no key at all.
   */
  public static Tensor causal(long tq, long tk, Tensor like) {
    if (tq > tk) {
      throw new IllegalArgumentException("causal mask: " + tq + " queries over " + tk + " keys; causal attention needs"
          + " Tq <= Tk (query i sees keys <= i + Tk - Tq)");
    }
    Tensor allowed = torch.full(new long[] {tq, tk}, new Scalar(1.0), like.options()).tril_(tk - tq); // 1 = allowed
    return allowed.neg().add(new Scalar(1.0)).mul(new Scalar(SELF_ATTENTION_MASKED));
  }
}
