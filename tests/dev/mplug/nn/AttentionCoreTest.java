package dev.mplug.nn;

import static dev.mplug.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The reference (composite) and fast (native) attention paths agree, and the switch selects between them. */
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
}
