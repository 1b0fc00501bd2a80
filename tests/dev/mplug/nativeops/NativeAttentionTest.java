package dev.mplug.nativeops;

import static dev.mplug.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.nn.Masks;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchException;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The native attention op against libtorch's scaled_dot_product_attention: outputs and gradients. */
class NativeAttentionTest {
  private static final double FWD_TOL = 1e-5;
  private static final double GRAD_TOL = 1e-4;

  /**
   * SDPA reference with the heads merged like the native op's output: [B, Tq, H*d]. Causal is the project's
   * bottom-right rule (Masks.causal), passed as an explicit mask: SDPA's own is_causal is top-left aligned.
   */
  private static Tensor reference(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal) {
    if (causal) mask = Masks.causal(q.size(2), k.size(2), q);
    Tensor out = torch.scaled_dot_product_attention(q, k, v,
        mask == null ? new TensorOptional() : new TensorOptional(mask), 0.0, false, new DoubleOptional(scale), false);
    return out.transpose(1, 2).reshape(q.size(0), q.size(2), q.size(1) * q.size(3));
  }

  private static void compare(long b, long h, long tq, long tk, long d, boolean withMask, boolean causal) {
    try (TensorScope scope = TensorScope.open()) {
      Tensor q1 = torch.randn(b, h, tq, d).requires_grad_(true);
      Tensor k1 = torch.randn(b, h, tk, d).requires_grad_(true);
      Tensor v1 = torch.randn(b, h, tk, d).requires_grad_(true);
      Tensor q2 = q1.detach().clone().requires_grad_(true);
      Tensor k2 = k1.detach().clone().requires_grad_(true);
      Tensor v2 = v1.detach().clone().requires_grad_(true);
      Tensor mask = null;
      if (withMask) {
        Tensor keep = torch.ones_like(k1.select(1, 0).select(2, 0).detach());   // [B, Tk]
        keep.narrow(1, tk - 2, 2).zero_();                                       // last two keys are padding
        mask = Masks.additive(keep, Masks.SELF_ATTENTION_MASKED, q1);
      }
      double scale = 1.0 / Math.sqrt(d);
      Tensor upstream = torch.randn(b, tq, h * d);

      Tensor expected = reference(q1, k1, v1, mask, scale, causal);
      Tensor actual = NativeOps.attention(q2, k2, v2, mask, scale, causal);
      String what = "B" + b + " H" + h + " Tq" + tq + " Tk" + tk + " d" + d + (withMask ? " mask" : "")
          + (causal ? " causal" : "");
      assertClose(expected, actual, FWD_TOL, what + " output");

      expected.mul(upstream).sum().backward();
      actual.mul(upstream).sum().backward();
      assertTrue(q2.grad().defined(), "gradient reached q through the native op");
      assertClose(q1.grad(), q2.grad(), GRAD_TOL, what + " dq");
      assertClose(k1.grad(), k2.grad(), GRAD_TOL, what + " dk");
      assertClose(v1.grad(), v2.grad(), GRAD_TOL, what + " dv");
    }
  }

  @Test
  void selfAttentionWithPaddingMaskMatchesSdpa() {
    Seeds.fresh("selfAttentionWithPaddingMaskMatchesSdpa");
    compare(2, 3, 7, 7, 8, true, false);
  }

  @Test
  void crossAttentionOfDifferentLengthsMatchesSdpa() {
    Seeds.fresh("crossAttentionOfDifferentLengthsMatchesSdpa");
    compare(3, 2, 5, 11, 4, true, false);
    compare(1, 4, 5, 11, 16, false, false);
  }

  @Test
  void causalAttentionMatchesSdpa() {
    Seeds.fresh("causalAttentionMatchesSdpa");
    compare(2, 2, 6, 6, 8, false, true);
  }

  @Test
  void causalAttentionWithFewerQueriesThanKeysMatchesTheBottomRightMask() {
    Seeds.fresh("causalAttentionWithFewerQueriesThanKeys");
    compare(2, 2, 3, 7, 8, false, true);
  }

  @Test
  void badShapesGiveTheExtensionsMessage() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor q = torch.randn(2, 3, 4, 8);
      Tensor k = torch.randn(2, 3, 5, 8);
      Tensor v = torch.randn(2, 3, 6, 8);
      TorchException e = assertThrows(TorchException.class, () -> NativeOps.attention(q, k, v, null, 1.0, false));
      assertTrue(e.getMessage().contains("shapes do not fit") && e.getMessage().contains("[2, 3, 6, 8]"),
          e.getMessage());
      Tensor flat = torch.randn(2, 4, 8);
      e = assertThrows(TorchException.class, () -> NativeOps.attention(flat, flat, flat, null, 1.0, false));
      assertTrue(e.getMessage().contains("must be 4-d"), e.getMessage());
      Tensor badMask = torch.zeros(new long[] {2, 1, 1, 3});
      e = assertThrows(TorchException.class, () -> NativeOps.attention(q, k, k, badMask, 1.0, false));
      assertTrue(e.getMessage().contains("does not broadcast"), e.getMessage());
      Tensor okMask = torch.zeros(new long[] {2, 1, 1, 5});
      e = assertThrows(TorchException.class, () -> NativeOps.attention(q, k, k, okMask, 1.0, true));
      assertTrue(e.getMessage().contains("not both"), e.getMessage());
    }
  }
}
