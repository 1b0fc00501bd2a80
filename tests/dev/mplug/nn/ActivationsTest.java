package dev.mplug.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import org.junit.jupiter.api.Test;

/** QuickGELU and the exact GELU at known points. */
class ActivationsTest {
  private static final float[] X = {-3f, -1f, 0f, 0.5f, 1f, 2f};

  @Test
  void quickGeluIsXTimesSigmoidOf1702X() {
    try (TensorScope _ = TensorScope.open()) {
      float[] y = Tensors.toFloats(Activations.quickGelu(Tensors.floats(X, X.length)));
      // x / (1 + exp(-1.702 x)); e.g. QuickGELU(1) = 0.8457958, QuickGELU(-1) = -0.1542042
      assertEquals(0.8457958, y[4], 1e-6);
      assertEquals(-0.1542042, y[1], 1e-6);
      assertEquals(0.0, y[2], 0.0);
      for (int i = 0; i < X.length; i++) assertEquals(X[i] / (1 + Math.exp(-1.702 * X[i])), y[i], 1e-6, "x=" + X[i]);
    }
  }

  @Test
  void geluIsTheErfFormNotTheTanhApproximation() {
    try (TensorScope _ = TensorScope.open()) {
      float[] y = Tensors.toFloats(Activations.gelu(Tensors.floats(X, X.length)));
      // x Phi(x): GELU(1) = 0.8413447 (tanh approximation: 0.8411920), GELU(-3) = -0.0040497
      assertEquals(0.8413447, y[4], 1e-6);
      assertEquals(-0.1586553, y[1], 1e-6);
      assertEquals(-0.0040497, y[0], 1e-6);
      assertEquals(1.9544997, y[5], 1e-6);
    }
  }
}
