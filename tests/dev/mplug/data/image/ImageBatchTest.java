package dev.mplug.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.List;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try") // TensorScope frees the tensors at the end of each test
class ImageBatchTest {
  private static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};
  private static final double[] STD = {0.26862954, 0.26130258, 0.27577711};

  @Test
  void constantImagesNormaliseToClipValuesInBatchChannelOrder() {
    int[][] colours = {{0, 128, 255}, {200, 17, 90}};
    try (TensorScope scope = TensorScope.open();
        Mat a = Pixels.filled(5, 4, colours[0][0], colours[0][1], colours[0][2]);
        Mat b = Pixels.filled(5, 4, colours[1][0], colours[1][1], colours[1][2])) {
      Tensor t = ImageBatch.toTensor(List.of(a, b));
      assertArrayEquals(new long[] {2, 3, 4, 5}, Tensors.shape(t));
      assertEquals(torch.ScalarType.Float.value, t.scalar_type().value);
      float[] v = Tensors.toFloats(t);
      for (int img = 0; img < 2; img++) {
        for (int c = 0; c < 3; c++) {
          double expected = (colours[img][c] / 255.0 - MEAN[c]) / STD[c];
          for (int p = 0; p < 20; p++) {
            assertEquals(expected, v[(img * 3 + c) * 20 + p], 1e-5, "image " + img + " channel " + c);
          }
        }
      }
    }
  }

  @Test
  void aPixelLandsAtItsRowAndColumn() {
    try (TensorScope scope = TensorScope.open(); Mat a = Pixels.filled(7, 3, 0, 0, 0);
        Mat b = Pixels.filled(7, 3, 0, 0, 0)) {
      Pixels.set(b, 5, 1, 255, 0, 0); // x = 5, y = 1, red
      float[] v = Tensors.toFloats(ImageBatch.toTensor(List.of(a, b)));
      int index = ((1 * 3 + 0) * 3 + 1) * 7 + 5; // [b=1, c=0, y=1, x=5]
      assertEquals((1 - MEAN[0]) / STD[0], v[index], 1e-5);
      assertEquals(-MEAN[0] / STD[0], v[index - 1], 1e-5, "its left neighbour is black");
      assertEquals(-MEAN[1] / STD[1], v[index + 21], 1e-5, "green channel of the same pixel is 0");
    }
  }

  @Test
  void mixedSizesAndEmptyBatchesAreRejected() {
    try (Mat a = Pixels.filled(4, 4, 0, 0, 0); Mat b = Pixels.filled(5, 4, 0, 0, 0)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ImageBatch.toTensor(List.of(a, b)));
      assertTrue(e.getMessage().contains("image 1"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> ImageBatch.toTensor(List.of()));
  }
}
