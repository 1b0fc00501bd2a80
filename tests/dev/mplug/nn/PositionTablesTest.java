package dev.mplug.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try") // tensor scopes free memory by being open
class PositionTablesTest {

  /**
   * 2x2 -> 4x4 by hand. With align_corners = false, output i samples input (i + 0.5) / 2 - 0.5, clamped to [0, 1]:
   * -0.25 -> 0, 0.25, 0.75, 1.25 -> 1; so along each axis the weights of the second input cell are 0, .25, .75, 1.
   * Feature 0 of grid cell (r, c) holds 8r + 4c, feature 1 holds -(8r + 4c) + 1; bilinear interpolation of a function
   * linear in r and c gives 8 w(R) + 4 w(C) at output cell (R, C).
   */
  @Test
  void upsamplesTwoByTwoToFourByFourAsComputedByHand() {
    try (TensorScope s = TensorScope.open()) {
      float[] table = {
        -7f, 7f,          // CLS
        0f, 1f,           // (0,0)
        4f, -3f,          // (0,1)
        8f, -7f,          // (1,0)
        12f, -11f};       // (1,1)
      Tensor out = PositionTables.resize(Tensors.floats(table, 5, 2), 4);
      assertArrayEquals(new long[] {17, 2}, Tensors.shape(out));
      float[] got = Tensors.toFloats(out);
      assertEquals(-7f, got[0]);
      assertEquals(7f, got[1]);
      double[] w = {0, 0.25, 0.75, 1};
      for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 4; c++) {
          double v = 8 * w[r] + 4 * w[c];
          int row = 1 + r * 4 + c;
          assertEquals(v, got[2 * row], 1e-6, "feature 0 at " + r + "," + c);
          assertEquals(1 - v, got[2 * row + 1], 1e-6, "feature 1 at " + r + "," + c);
        }
      }
    }
  }

  @Test
  void identityWhenTheGridIsUnchanged() {
    try (TensorScope s = TensorScope.open()) {
      Tensor t = torch.randn(1 + 9, 5);
      Tensor out = PositionTables.resize(t, 3);
      assertTrue(out.equal(t));
      out.zero_();
      assertTrue(t.abs().sum().item_double() > 0, "a copy, not the same memory");
    }
  }

  @Test
  void keepsTheDtype() {
    try (TensorScope s = TensorScope.open()) {
      Tensor half = torch.randn(1 + 4, 3).to(torch.ScalarType.Half);
      Tensor out = PositionTables.resize(half, 3);
      assertEquals(torch.ScalarType.Half.value, out.scalar_type().value);
      assertArrayEquals(new long[] {10, 3}, Tensors.shape(out));
    }
  }

  @Test
  void rejectsTablesThatAreNotSquareGrids() {
    try (TensorScope s = TensorScope.open()) {
      assertThrows(IllegalArgumentException.class, () -> PositionTables.resize(torch.zeros(6, 2), 2));
      assertThrows(IllegalArgumentException.class, () -> PositionTables.resize(torch.zeros(5), 2));
      assertThrows(IllegalArgumentException.class, () -> PositionTables.resize(torch.zeros(5, 2), 0));
      assertEquals(16, PositionTables.gridOf(257));
      assertEquals(-1, PositionTables.gridOf(256));
    }
  }
}
