package dev.mplug.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.image.RandAugment.Op;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;

class RandAugmentTest {
  private static Mat op(Op op, Mat img) {
    return RandAugment.apply(op, img, 7, new SplittableRandom(0));
  }

  @Test
  void identityAndConstantImagesStayPut() {
    try (Mat flat = Pixels.filled(12, 10, 90, 120, 150)) {
      for (Op o : new Op[] {Op.IDENTITY, Op.AUTO_CONTRAST, Op.EQUALIZE, Op.SHARPNESS}) {
        try (Mat out = op(o, flat)) {
          assertArrayEquals(Pixels.bytes(flat), Pixels.bytes(out), o + " leaves a one-colour image unchanged");
        }
      }
    }
  }

  @Test
  void autoContrastStretchesEachChannelToFullRange() {
    // ranges 85 wide, so the scale is exactly 3 (the official table truncates, 2.55 * x would lose a level)
    try (Mat m = Pixels.filled(4, 4, 50, 100, 100)) {
      Pixels.fill(m, 0, 0, 2, 4, 135, 100, 185); // R: 50..135, G: constant 100, B: 100..185
      Pixels.set(m, 3, 0, 60, 100, 110);
      try (Mat out = op(Op.AUTO_CONTRAST, m)) {
        assertArrayEquals(new int[] {255, 100, 255}, Pixels.at(out, 0, 0));
        assertArrayEquals(new int[] {0, 100, 0}, Pixels.at(out, 3, 3), "G is constant: left as is");
        assertArrayEquals(new int[] {30, 100, 30}, Pixels.at(out, 3, 0), "(60 - 50) * 3, (110 - 100) * 3");
      }
    }
  }

  @Test
  void equalizeSpreadsTwoGreyLevelsToBlackAndWhite() {
    // 510 pixels: half at 10, half at 20 -> PIL's equalize maps them to 0 and 255
    try (Mat m = Pixels.filled(51, 10, 10, 10, 10)) {
      Pixels.fill(m, 0, 0, 51, 5, 20, 20, 20);
      try (Mat out = op(Op.EQUALIZE, m)) {
        assertArrayEquals(new int[] {255, 255, 255}, Pixels.at(out, 3, 2));
        assertArrayEquals(new int[] {0, 0, 0}, Pixels.at(out, 3, 7));
      }
    }
  }

  @Test
  void brightnessScalesBy136AtLevel7() {
    try (Mat m = Pixels.filled(3, 3, 100, 200, 0); Mat out = op(Op.BRIGHTNESS, m)) {
      assertArrayEquals(new int[] {136, 255, 0}, Pixels.at(out, 1, 1), "100 * 1.36, 200 * 1.36 clipped");
    }
  }

  @Test
  void sharpnessBoostsAnIsolatedPeakAndKeepsTheBorder() {
    try (Mat m = Pixels.filled(5, 5, 0, 0, 0)) {
      Pixels.set(m, 2, 2, 130, 130, 130);
      Pixels.set(m, 0, 0, 77, 77, 77);
      try (Mat out = op(Op.SHARPNESS, m)) {
        // smoothed centre = 5 * 130 / 13 = 50; 50 + 1.36 * (130 - 50) = 158.8
        assertEquals(159, Pixels.at(out, 2, 2)[0]);
        // neighbour: smoothed 10, 10 + 1.36 * (0 - 10) < 0 -> 0
        assertEquals(0, Pixels.at(out, 2, 1)[0]);
        assertEquals(77, Pixels.at(out, 0, 0)[0], "1-pixel border unchanged");
      }
    }
  }

  @Test
  void translateMovesByExactlySevenPixelsAndFillsGrey() {
    try (Mat m = Pixels.filled(40, 30, 0, 0, 0)) {
      Pixels.fill(m, 20, 0, 1, 30, 255, 255, 255); // a white column at x = 20
      for (long seed = 0; seed < 4; seed++) {
        try (Mat out = RandAugment.apply(Op.TRANSLATE_X, m, 7, new SplittableRandom(seed))) {
          int col = whiteColumn(out, 15);
          assertTrue(col == 13 || col == 27, "column moved by 7: " + col);
          int greyX = col == 13 ? 39 : 0; // the side uncovered by the shift
          assertArrayEquals(new int[] {128, 128, 128}, Pixels.at(out, greyX, 10));
        }
      }
    }
    try (Mat m = Pixels.filled(30, 40, 0, 0, 0)) {
      Pixels.fill(m, 0, 20, 30, 1, 255, 255, 255);
      try (Mat out = RandAugment.apply(Op.TRANSLATE_Y, m, 7, new SplittableRandom(1))) {
        int row = -1;
        for (int y = 0; y < 40; y++) if (Pixels.at(out, 15, y)[0] == 255) row = y;
        assertTrue(row == 13 || row == 27, "row moved by 7: " + row);
      }
    }
  }

  @Test
  void shearShiftsRowsInProportionToTheirHeight() {
    try (Mat m = Pixels.filled(60, 41, 0, 0, 0)) {
      Pixels.fill(m, 30, 0, 1, 41, 255, 255, 255);
      try (Mat out = op(Op.SHEAR_X, m)) {
        assertEquals(30, brightestColumn(out, 0), "row 0 does not move");
        int shift = brightestColumn(out, 40) - 30;
        assertTrue(Math.abs(Math.abs(shift) - 8.4) <= 1, "row 40 moves by 0.21 * 40 = 8.4: " + shift);
      }
    }
  }

  @Test
  void rotateKeepsTheCentreAndGreysTheCorners() {
    try (Mat m = Pixels.filled(41, 41, 200, 10, 10)) {
      Pixels.set(m, 20, 20, 0, 255, 0);
      try (Mat out = op(Op.ROTATE, m)) {
        // (W/2, H/2) = (20.5, 20.5) is the rotation centre; the pixel at 20 lies half a pixel off, so allow a blend
        assertTrue(Pixels.at(out, 20, 20)[1] > 100, Arrays.toString(Pixels.at(out, 20, 20)));
        assertArrayEquals(new int[] {128, 128, 128}, Pixels.at(out, 0, 0), "corner rotated out: grey fill");
      }
    }
  }

  @Test
  void sameSeedSameBytesAndZeroOpsIsIdentity() {
    try (Mat src = TransformsTest.pattern()) {
      RandAugment ra = RandAugment.of(2, 7);
      int changed = 0;
      for (long seed = 0; seed < 40; seed++) {
        try (Mat a = ra.apply(src, new SplittableRandom(seed)); Mat b = ra.apply(src, new SplittableRandom(seed))) {
          assertArrayEquals(Pixels.bytes(a), Pixels.bytes(b));
          if (!Arrays.equals(Pixels.bytes(a), Pixels.bytes(src))) changed++;
        }
      }
      // P(unchanged) = P(each of 2 draws skipped or Identity) = (0.5 + 0.5 * 0.1)^2 = 0.3025
      assertTrue(changed > 15 && changed < 40, "changed " + changed + " of 40");
      try (Mat none = new RandAugment(0, 7, List.of(Op.values())).apply(src, new SplittableRandom(1))) {
        assertArrayEquals(Pixels.bytes(src), Pixels.bytes(none));
      }
      try (Mat any = RandAugment.apply(Op.ROTATE, src, 7, new SplittableRandom(2))) {
        assertFalse(Arrays.equals(Pixels.bytes(src), Pixels.bytes(any)));
      }
    }
  }

  private static int whiteColumn(Mat m, int y) {
    for (int x = 0; x < m.cols(); x++) if (Pixels.at(m, x, y)[0] == 255) return x;
    return -1;
  }

  private static int brightestColumn(Mat m, int y) {
    int best = -1;
    int bestV = -1;
    for (int x = 0; x < m.cols(); x++) {
      int v = Pixels.at(m, x, y)[0];
      if (v > bestV && v != 128) {
        bestV = v;
        best = x;
      }
    }
    return best;
  }
}
