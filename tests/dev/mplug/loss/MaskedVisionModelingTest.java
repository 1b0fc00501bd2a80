package dev.mplug.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.loss.MaskedVisionModeling.MaskShape;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Masks (count, layout, reproducibility), the two targets and the loss, on values checked by hand. */
class MaskedVisionModelingTest {
  private static long[] counts(Tensor mask) {
    return Tensors.toLongs(mask.to(torch.ScalarType.Long).sum(new long[] {1}, false, new ScalarTypeOptional()));
  }

  /** Pairs of horizontally or vertically adjacent masked patches, over all rows of a [B, g^2] mask. */
  private static int adjacentPairs(Tensor mask, int grid) {
    long[] m = Tensors.toLongs(mask.to(torch.ScalarType.Long));
    int pairs = 0;
    for (int b = 0; b < m.length / (grid * grid); b++) {
      for (int r = 0; r < grid; r++) {
        for (int c = 0; c < grid; c++) {
          int i = b * grid * grid + r * grid + c;
          if (m[i] == 0) continue;
          if (c + 1 < grid && m[i + 1] == 1) pairs++;
          if (r + 1 < grid && m[i + grid] == 1) pairs++;
        }
      }
    }
    return pairs;
  }

  @Test
  void bothLayoutsMaskExactlyTheRoundedShareAndRepeatForTheSameSeed() {
    try (TensorScope _ = TensorScope.open()) {
      for (MaskShape shape : MaskShape.values()) {
        torch.manual_seed(11);
        Tensor a = MaskedVisionModeling.mask(6, 8, 0.4, shape);
        assertArrayEquals(new long[] {26, 26, 26, 26, 26, 26}, counts(a), shape + ": round(0.4 x 64) per image");
        torch.manual_seed(11);
        Tensor again = MaskedVisionModeling.mask(6, 8, 0.4, shape);
        assertTrue(a.equal(again), shape + ": the same seed, the same mask");
        assertNotEquals(0, a.narrow(0, 0, 1).ne(a.narrow(0, 1, 1)).sum().item_long(), shape + ": rows differ");
      }
      assertEquals(1, MaskedVisionModeling.maskedCount(4, 0.01), "at least one patch");
      assertArrayEquals(new long[] {1, 1}, counts(MaskedVisionModeling.mask(2, 2, 0.01, MaskShape.BLOCK)));
    }
  }

  @Test
  void blockMasksAreContiguousWhereRandomOnesAreNot() {
    try (TensorScope _ = TensorScope.open()) {
      torch.manual_seed(5);
      int block = adjacentPairs(MaskedVisionModeling.mask(32, 14, 0.4, MaskShape.BLOCK), 14);
      torch.manual_seed(5);
      int random = adjacentPairs(MaskedVisionModeling.mask(32, 14, 0.4, MaskShape.RANDOM), 14);
      // random: each of the 78 masked patches has ~0.4 x 4 masked neighbours (about 2,000 pairs over 32 images);
      // blocks share edges inside each rectangle
      assertTrue(block > 1.4 * random, "adjacent masked pairs: block " + block + ", random " + random);
    }
  }

  @Test
  void pixelTargetsArePatchesRowByRowEachStandardised() {
    try (TensorScope _ = TensorScope.open()) {
      // one 3 x 2 x 2 image, patch 1: four patches (row by row) of the three channel values
      float[] pixels = {1, 2, 3, 4, /* red */ 2, 2, 6, 8, /* green */ 3, 2, 9, 0 /* blue */};
      Tensor t = MaskedVisionModeling.pixelTargets(Tensors.floats(pixels, 1, 3, 2, 2), 1);
      assertArrayEquals(new long[] {1, 4, 3}, Tensors.shape(t));
      double s = Math.sqrt(2.0 / 3 + 1e-6);           // patch 0 = (1, 2, 3): mean 2, variance 2/3
      float[] got = Tensors.toFloats(t);
      assertArrayEquals(new float[] {(float) (-1 / s), 0, (float) (1 / s)}, Arrays.copyOfRange(got, 0, 3), 1e-5f);
      assertArrayEquals(new float[] {0, 0, 0}, Arrays.copyOfRange(got, 3, 6), 1e-6f, "patch 1 = (2, 2, 2)");
      // patch 2 on a 3 x 4 x 4 image: 4 patches; only patch 1 (top right) is non-constant, its red square 1 2 / 3 4
      float[] image = new float[3 * 4 * 4];
      image[2] = 1;
      image[3] = 2;
      image[4 + 2] = 3;
      image[4 + 3] = 4;
      float[] p = Tensors.toFloats(MaskedVisionModeling.pixelTargets(Tensors.floats(image, 1, 3, 4, 4), 2));
      assertEquals(4 * 12, p.length);
      for (int i = 0; i < p.length; i++) {
        if (i < 12 || i >= 24) assertEquals(0f, p[i], 0f, "constant patches standardise to 0 at " + i);
      }
      double mean = 10.0 / 12, var = (1 + 4 + 9 + 16) / 12.0 - mean * mean;
      for (int k = 0; k < 4; k++) {
        assertEquals((k + 1 - mean) / Math.sqrt(var + 1e-6), p[12 + k], 1e-5, "red, row-major, at " + k);
      }
      for (int k = 4; k < 12; k++) assertEquals(-mean / Math.sqrt(var + 1e-6), p[12 + k], 1e-5, "green, blue");
    }
  }

  @Test
  void featureTargetsDropTheClassTokenAndStandardisePerPatch() {
    try (TensorScope _ = TensorScope.open()) {
      Tensor v = Tensors.floats(new float[] {9, 9, /* class */ 1, 3, /* patch */ 5, 5 /* flat patch */}, 1, 3, 2);
      float[] got = Tensors.toFloats(MaskedVisionModeling.featureTargets(v));
      double s = Math.sqrt(1 + 1e-5);                 // (1, 3): mean 2, variance 1
      assertArrayEquals(new float[] {(float) (-1 / s), (float) (1 / s), 0, 0}, got, 1e-6f);
    }
  }

  @Test
  void theLossAveragesTheSquaredErrorOverMaskedPatchesOnly() {
    try (TensorScope _ = TensorScope.open()) {
      Tensor pred = Tensors.floats(new float[] {1, 1, 0, 0}, 1, 2, 2);
      Tensor target = Tensors.floats(new float[] {0, 0, 0, 2}, 1, 2, 2);   // patch errors: 1 and 2
      Tensor first = Tensors.floats(new float[] {1, 0}, 1, 2).ne(Tensors.scalar(0));
      Tensor both = Tensors.floats(new float[] {1, 1}, 1, 2).ne(Tensors.scalar(0));
      assertEquals(1.0, MaskedVisionModeling.loss(pred, target, first).item_double(), 1e-7);
      assertEquals(1.5, MaskedVisionModeling.loss(pred, target, both).item_double(), 1e-7);
    }
  }
}
