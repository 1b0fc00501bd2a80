package dev.mplug.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;

class TransformsTest {
  /** A 64 x 48 image with structure everywhere (so crops and augmentations visibly differ). */
  static Mat pattern() {
    Mat m = Pixels.filled(64, 48, 0, 0, 0);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) Pixels.set(m, x, y, x * 4, y * 5, (x * y) % 256);
    }
    return m;
  }

  @Test
  void flipMovesAPixelToTheMirroredColumn() {
    try (Mat m = Pixels.filled(10, 8, 0, 0, 0)) {
      Pixels.set(m, 2, 3, 255, 10, 20);
      try (Mat f = Transforms.flip(m)) {
        assertArrayEquals(new int[] {255, 10, 20}, Pixels.at(f, 7, 3), "(2, 3) -> (10 - 1 - 2, 3)");
        assertArrayEquals(new int[] {0, 0, 0}, Pixels.at(f, 2, 3));
      }
      try (Mat always = Transforms.horizontalFlip(1.0).apply(m, new SplittableRandom(1));
          Mat never = Transforms.horizontalFlip(0.0).apply(m, new SplittableRandom(1))) {
        assertArrayEquals(new int[] {255, 10, 20}, Pixels.at(always, 7, 3));
        assertArrayEquals(new int[] {255, 10, 20}, Pixels.at(never, 2, 3));
      }
    }
  }

  @Test
  void evalResizesToASquareAndKeepsAConstantImage() {
    try (Mat m = Pixels.filled(64, 48, 30, 60, 90); Mat r = Transforms.eval(20).apply(m, new SplittableRandom(0))) {
      assertEquals(20, r.cols());
      assertEquals(20, r.rows());
      assertArrayEquals(new int[] {30, 60, 90}, Pixels.at(r, 13, 7));
    }
  }

  @Test
  void randomResizedCropRegionsRespectScaleAndRatio() {
    RandomResizedCrop crop = RandomResizedCrop.of(32, 0.2);
    SplittableRandom rng = new SplittableRandom(7);
    for (int i = 0; i < 500; i++) {
      int[] r = crop.region(640, 480, rng);
      assertTrue(r[0] >= 0 && r[1] >= 0 && r[0] + r[2] <= 640 && r[1] + r[3] <= 480, "inside the image");
      double area = (double) r[2] * r[3] / (640 * 480);
      assertTrue(area > 0.195 && area <= 1.0, "area fraction " + area);
      double ratio = (double) r[2] / r[3];
      assertTrue(ratio > 0.74 && ratio < 1.35, "aspect " + ratio);
    }
    // a 1000 x 10 strip admits no crop with ratio <= 4/3 and area >= 20%: torchvision's centre fallback
    assertArrayEquals(new int[] {(1000 - 13) / 2, 0, 13, 10}, crop.region(1000, 10, new SplittableRandom(3)));
  }

  @Test
  void pretrainGivesResSquareAndSameSeedSameBytes() {
    ImageTransform t = Transforms.pretrain(32);
    try (Mat src = pattern();
        Mat a = t.apply(src, new SplittableRandom(42));
        Mat b = t.apply(src, new SplittableRandom(42));
        Mat c = t.apply(src, new SplittableRandom(43))) {
      assertEquals(32, a.cols());
      assertEquals(32, a.rows());
      assertEquals(3, a.channels());
      assertArrayEquals(Pixels.bytes(a), Pixels.bytes(b), "same seed, same bytes");
      assertFalse(Arrays.equals(Pixels.bytes(a), Pixels.bytes(c)), "another seed, another crop");
    }
  }

  @Test
  void transformsDoNotTouchTheirInput() {
    try (Mat src = pattern()) {
      byte[] before = Pixels.bytes(src);
      Transforms.pretrain(16).apply(src, new SplittableRandom(5)).close();
      assertArrayEquals(before, Pixels.bytes(src));
    }
  }

  @Test
  void badArgumentsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.of(0, 0.2));
    assertThrows(IllegalArgumentException.class, () -> new RandomResizedCrop(8, 0.5, 0.2, 0.75, 1.33));
    assertThrows(IllegalArgumentException.class, () -> Transforms.horizontalFlip(1.5));
    try (Mat gray = new Mat(4, 4, opencv_core.CV_8UC1)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Transforms.pretrain(8).apply(gray, new SplittableRandom(0)));
      assertTrue(e.getMessage().contains("CV_8UC3"), e.getMessage());
    }
  }
}
