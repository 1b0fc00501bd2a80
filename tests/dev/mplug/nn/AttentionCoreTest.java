package dev.mplug.nn;

import static dev.mplug.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The reference (composite) and fast (native) attention paths agree, follow one (bottom-right) causal rule, and the
 * switch selects between them.
 */
class AttentionCoreTest {
  @Test
  void compositeAndNativeAgreeWithMaskAndCausal() {
    Seeds.fresh("compositeAndNativeAgreeWithMaskAndCausal");
    try (TensorScope scope = TensorScope.open()) {
      Tensor q = torch.randn(2, 4, 9, 8);
      Tensor k = torch.randn(2, 4, 9, 8);
      Tensor v = torch.randn(2, 4, 9, 8);
      Tensor keep = Tensors.floats(new float[] {1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 2, 9);
      Tensor mask = Masks.additive(keep, Masks.SELF_ATTENTION_MASKED, q);
      double scale = 1 / Math.sqrt(8);
      assertClose(AttentionCore.composite(q, k, v, mask, scale, false),
          NativeOps.attention(q, k, v, mask, scale, false), 1e-5, "masked");
      assertClose(AttentionCore.composite(q, k, v, null, scale, true),
          NativeOps.attention(q, k, v, null, scale, true), 1e-5, "causal");
    }
  }

  @Test
  void autoTakesTheNativePathInFp32AndTheCompositeUnderAutocast() {
    AttentionCore.Impl previous = AttentionCore.use(AttentionCore.Impl.AUTO);
    try {
      assertEquals(AttentionCore.Impl.NATIVE, AttentionCore.resolved());
      try (Autocast region = Autocast.cpu(Precision.BF16)) {
        assertEquals(AttentionCore.Impl.COMPOSITE, AttentionCore.resolved());
      }
      assertEquals(AttentionCore.Impl.NATIVE, AttentionCore.resolved());
      AttentionCore.use(AttentionCore.Impl.NATIVE);
      try (Autocast region = Autocast.cpu(Precision.BF16)) {
        assertEquals(AttentionCore.Impl.NATIVE, AttentionCore.resolved(), "an explicit choice is kept");
      }
    } finally {
      AttentionCore.use(previous);
    }
  }

  @Test
  void maskedKeysGetNoWeight() {
    try (TensorScope scope = TensorScope.open()) {
      // one head, one query; keys 0 and 1 are real, key 2 is padding with a huge value that must not leak
      Tensor q = Tensors.floats(new float[] {1, 0}, 1, 1, 1, 2);
      Tensor k = Tensors.floats(new float[] {1, 0, 0, 1, 5, 5}, 1, 1, 3, 2);
      Tensor v = Tensors.floats(new float[] {1, 0, 0, 1, 1000, 1000}, 1, 1, 3, 2);
      Tensor mask = Masks.additive(Tensors.floats(new float[] {1, 1, 0}, 1, 3), Masks.SELF_ATTENTION_MASKED, q);
      for (AttentionCore.Impl impl : AttentionCore.Impl.values()) {
        AttentionCore.Impl previous = AttentionCore.use(impl);
        try {
          float[] out = Tensors.toFloats(AttentionCore.apply(q, k, v, mask, 1.0, false));
          // softmax([1, 0]) = [e/(e+1), 1/(e+1)]
          double w0 = Math.E / (Math.E + 1);
          assertEquals(w0, out[0], 1e-6, impl + " weight of key 0");
          assertEquals(1 - w0, out[1], 1e-6, impl + " weight of key 1");
        } finally {
          AttentionCore.use(previous);
        }
      }
    }
  }

  /**
   * One causal rule on both paths, against hand-written masks: query i sees keys 0 .. i + (Tk - Tq). With v = I per
   * head the output is the probability matrix itself, so masked keys must read exactly 0.
   */
  @Test
  void causalIsBottomRightAlignedOnBothPaths() {
    Seeds.fresh("causalIsBottomRightAlignedOnBothPaths");
    // Tq = 3 queries over Tk = 5 keys (a decoder step of 3 new tokens after 2 cached ones)
    float[] threeOverFive = {
        1, 1, 1, 0, 0,
        1, 1, 1, 1, 0,
        1, 1, 1, 1, 1};
    // Tq = Tk = 4: the ordinary lower triangle
    float[] fourOverFour = {
        1, 0, 0, 0,
        1, 1, 0, 0,
        1, 1, 1, 0,
        1, 1, 1, 1};
    // one query over 4 keys (a single-token step) sees all of them
    float[] oneOverFour = {1, 1, 1, 1};
    checkCausal(3, 5, threeOverFive);
    checkCausal(4, 4, fourOverFour);
    checkCausal(1, 4, oneOverFour);
  }

  private static void checkCausal(int tq, int tk, float[] allowed) {
    try (TensorScope scope = TensorScope.open()) {
      Tensor q = torch.randn(2, 3, tq, 4);
      Tensor k = torch.randn(2, 3, tk, 4);
      Tensor v = torch.eye(tk).expand(2, 3, tk, tk).contiguous();                   // [B, H, Tk, Tk]
      Tensor keep = Tensors.floats(allowed, tq, tk);
      Tensor handMask = keep.neg().add(new Scalar(1.0)).mul(new Scalar(-1e9));     // [Tq, Tk]
      Tensor expected = AttentionCore.composite(q, k, v, handMask, 0.5, false);    // [B, Tq, H*Tk]
      Tensor masked = keep.neg().add(new Scalar(1.0)).repeat(1, 3).unsqueeze(0);   // [1, Tq, H*Tk], 1 = masked
      String what = "Tq " + tq + ", Tk " + tk;
      Tensor composite = AttentionCore.composite(q, k, v, null, 0.5, true);
      Tensor fused = NativeOps.attention(q, k, v, null, 0.5, true);
      assertClose(expected, composite, 1e-6, what + ": composite causal vs the hand-built mask");
      assertClose(expected, fused, 1e-5, what + ": native causal vs the hand-built mask");
      assertEquals(0.0, composite.mul(masked).abs().max().item_double(), 0.0, what + ": composite masked weight");
      assertEquals(0.0, fused.mul(masked).abs().max().item_double(), 0.0, what + ": native masked weight");
      assertClose(torch.ones(2, tq, 3), fused.reshape(2, tq, 3, tk).sum(3), 1e-5, what + ": rows sum to 1");
    }
  }

  @Test
  void causalWithMoreQueriesThanKeysIsRejectedOnBothPaths() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor q = torch.randn(1, 2, 5, 4);
      Tensor k = torch.randn(1, 2, 3, 4);
      var composite = assertThrows(IllegalArgumentException.class,
          () -> AttentionCore.composite(q, k, k, null, 1.0, true));
      assertTrue(composite.getMessage().contains("Tq <= Tk"), composite.getMessage());
      var fused = assertThrows(RuntimeException.class,
          () -> NativeOps.attention(q, k, k, null, 1.0, true));
      assertTrue(fused.getMessage().contains("Tq <= Tk") && fused.getMessage().contains("Tq 5, Tk 3"),
          fused.getMessage());
    }
  }
}
