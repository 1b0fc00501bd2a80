package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mplug.torch.Tensors;
import org.junit.jupiter.api.Test;

/** GIoU against hand-computed values, with the reference's 1e-5 guards. */
class GeneralizedIoUTest {
  @Test
  void handComputedPairs() {
    float[] a = {0, 0, 2, 2, /**/ 0, 0, 1, 1, /**/ 0.25f, 0.25f, 0.75f, 0.5f};
    float[] b = {1, 1, 3, 3, /**/ 2, 0, 3, 1, /**/ 0.25f, 0.25f, 0.75f, 0.5f};
    float[] giou = Tensors.toFloats(GeneralizedIoU.of(Tensors.floats(a, 3, 4), Tensors.floats(b, 3, 4)));
    // 1: inter 1, union 7, hull 9: 1 / 7 - 2 / 9; 2: disjoint, union 2, hull 3: -1 / 3;
    // 3: equal, area 0.125: 0.125 / 0.12501 - 0
    assertArrayEquals(new float[] {(float) (1 / (7 + 1e-5) - 2 / (9 + 1e-5)), (float) (-1 / (3 + 1e-5)),
        (float) (0.125 / (0.125 + 1e-5))}, giou, 1e-6f);
  }

  @Test
  void centreSizeToCorners() {
    float[] xyxy = Tensors.toFloats(GeneralizedIoU.xyxy(Tensors.floats(new float[] {0.5f, 0.4f, 0.2f, 0.6f}, 1, 4)));
    assertArrayEquals(new float[] {0.4f, 0.1f, 0.6f, 0.7f}, xyxy, 1e-7f);
  }
}
