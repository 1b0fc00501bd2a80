package dev.mplug.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Value assertions on tensors with the max absolute difference in the message. */
public final class TensorAssert {
  private TensorAssert() {}

  public static double maxAbsDiff(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_double();
  }

  public static void assertClose(Tensor expected, Tensor actual, double atol, String what) {
    assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), what + ": shape");
    double diff = maxAbsDiff(expected, actual);
    assertTrue(diff <= atol, what + ": max |diff| = " + diff + " > " + atol);
  }

  /**
   * max |actual - expected| / max |expected| at most {@code relTol}, both taken in float64 (so bfloat16 tensors are
   * compared at their own values, not at a rounded difference); the shapes equal.
   */
  public static void assertRelClose(Tensor expected, Tensor actual, double relTol, String what) {
    assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), what + ": shape");
    Tensor e = expected.to(torch.ScalarType.Double), a = actual.to(torch.ScalarType.Double);
    double rel = maxAbsDiff(e, a) / Math.max(e.abs().max().item_double(), 1e-30);
    assertTrue(rel <= relTol, what + ": max |diff| / max |expected| = " + rel + " > " + relTol);
  }

  /**
   * ||actual - expected|| / ||expected|| (Euclidean norms, in float64) at most {@code relTol}: the error measure for
   * two low-precision computations of the same result, where single elements may differ by a few bfloat16 steps.
   */
  public static void assertNormRelClose(Tensor expected, Tensor actual, double relTol, String what) {
    assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), what + ": shape");
    Tensor e = expected.to(torch.ScalarType.Double), a = actual.to(torch.ScalarType.Double);
    double rel = e.sub(a).norm().item_double() / Math.max(e.norm().item_double(), 1e-30);
    assertTrue(rel <= relTol, what + ": ||diff|| / ||expected|| = " + rel + " > " + relTol);
  }
}
