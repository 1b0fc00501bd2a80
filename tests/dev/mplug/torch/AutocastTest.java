package dev.mplug.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** CPU autocast regions: bf16 compute, a weight cache that never outlives the outermost region, nesting. */
class AutocastTest {
  /**
   * The defect this guards against: libtorch caches the bf16 copy of a leaf weight while autocast is on; if the cache
   * survives the region, the forward after an optimizer step still multiplies by the old weights.
   */
  @Test
  void aForwardAfterAWeightUpdateSeesTheNewWeights() {
    TorchRuntime.seed(3);
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = torch.randn(4, 8);
      Tensor w = torch.randn(8, 5).requires_grad_(true);              // a leaf weight, as a parameter is
      Tensor before;
      try (Autocast region = Autocast.cpu(Precision.BF16)) {
        before = torch.matmul(x, w);                                    // [4, 5], caches bf16(w)
      }
      assertEquals(torch.ScalarType.BFloat16.value, before.scalar_type().value, "matmul runs in bf16");
      try (NoGradGuard noGrad = new NoGradGuard()) {
        w.add_(Tensors.scalar(1.0));                                    // "the optimizer step"
      }
      float[] after;
      try (Autocast region = Autocast.cpu(Precision.BF16)) {
        after = Tensors.toFloats(torch.matmul(x, w).to(torch.ScalarType.Float));
      }
      float[] fresh = Tensors.toFloats(torch.matmul(x.to(torch.ScalarType.BFloat16), w.detach()
          .to(torch.ScalarType.BFloat16)).to(torch.ScalarType.Float));
      assertArrayEquals(fresh, after, "the second region multiplies by bf16 of the updated weight");
      float[] stale = Tensors.toFloats(before.to(torch.ScalarType.Float));
      assertFalse(Arrays.equals(stale, after), "and not by the cached copy of the old one");
    }
  }

  @Test
  void regionsNestAndRestoreTheEnclosingState() {
    assertFalse(Autocast.active());
    try (Autocast outer = Autocast.cpu(Precision.BF16)) {
      assertTrue(Autocast.active());
      try (Autocast inner = Autocast.cpu(Precision.FP32)) {
        assertFalse(Autocast.active(), "an fp32 region inside a bf16 one turns autocast off");
        try (TensorScope scope = TensorScope.open()) {
          assertEquals(torch.ScalarType.Float.value, torch.matmul(torch.ones(2, 2), torch.ones(2, 2)).scalar_type().value);
        }
      }
      assertTrue(Autocast.active(), "leaving the inner region restores the outer one");
      assertEquals(torch.ScalarType.BFloat16.value, torch.get_autocast_dtype(torch.DeviceType.CPU).value);
    }
    assertFalse(Autocast.active());
  }

  /** An inner region must not empty the cache the outer region is still using; the outer one's end must. */
  @Test
  void onlyTheOutermostRegionEmptiesTheWeightCache() {
    TorchRuntime.seed(4);
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = torch.randn(3, 6);
      Tensor w = torch.randn(6, 2).requires_grad_(true);
      float[] inOuter;
      float[] afterInner;
      try (Autocast outer = Autocast.cpu(Precision.BF16)) {
        inOuter = Tensors.toFloats(torch.matmul(x, w).to(torch.ScalarType.Float));
        try (Autocast inner = Autocast.cpu(Precision.BF16)) {
          torch.matmul(x, w);
        }
        try (NoGradGuard noGrad = new NoGradGuard()) {
          w.add_(Tensors.scalar(2.0));
        }
        // Still inside the outer region: libtorch's documented behaviour is to reuse the cached cast.
        afterInner = Tensors.toFloats(torch.matmul(x, w).to(torch.ScalarType.Float));
      }
      assertArrayEquals(inOuter, afterInner, "the inner region left the outer region's cache in place");
      try (Autocast again = Autocast.cpu(Precision.BF16)) {
        assertFalse(Arrays.equals(inOuter, Tensors.toFloats(torch.matmul(x, w).to(torch.ScalarType.Float))),
            "a new outermost region casts the updated weight");
      }
    }
  }

  @Test
  void precisionsParseAndNameBadValues() {
    assertEquals(Precision.BF16, Precision.parse("BF16"));
    assertEquals(Precision.FP32, Precision.parse(" fp32 "));
    var e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
    assertTrue(e.getMessage().contains("fp16") && e.getMessage().contains("bf16"), e.getMessage());
    assertNull(Precision.FP32.hardwareWarning());
  }

  @Test
  void bf16InstructionsAreReadFromTheCpuFlags() {
    assertEquals(List.of(), Precision.bf16InstructionFlags(Set.of("avx2", "fma", "avx512f")));
    assertEquals(List.of("amx_bf16", "avx512_bf16"),
        Precision.bf16InstructionFlags(Set.of("avx512f", "avx512_bf16", "amx_tile", "amx_bf16")));
    // this machine: the warning appears exactly when the flags are missing
    assertEquals(Precision.cpuHasBf16Instructions(), Precision.BF16.hardwareWarning() == null);
  }
}
