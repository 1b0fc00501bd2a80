package dev.mplug.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

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
}
