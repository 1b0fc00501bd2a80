package dev.mplug.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.Box;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try") // resources opened only to be closed
class GroundingTransformsTest {
  /** A grey image with a red block exactly at {@code box}. */
  static BoxedImage redBlock(int w, int h, Box box, String text) {
    Mat m = Pixels.filled(w, h, 100, 100, 100);
    Pixels.fill(m, (int) box.x1(), (int) box.y1(), (int) box.width(), (int) box.height(), 230, 20, 20);
    return new BoxedImage(m, box, text);
  }

  static void assertBoxOnRed(BoxedImage s) {
    Box b = s.box();
    int cx = (int) Math.floor((b.x1() + b.x2()) / 2);
    int cy = (int) Math.floor((b.y1() + b.y2()) / 2);
    int[] p = Pixels.at(s.image(), cx, cy);
    assertTrue(p[0] > p[1] + 60 && p[0] > p[2] + 60, "box centre (" + cx + ", " + cy + ") is red: "
        + Arrays.toString(p) + " box " + b);
    assertTrue(b.x1() >= 0 && b.y1() >= 0 && b.x2() <= s.image().cols() && b.y2() <= s.image().rows(), "inside " + b);
  }

  @Test
  void boxFlipFormulaAndFormats() {
    Box b = Box.ofXywh(10, 20, 20, 40);
    assertEquals(new Box(10, 20, 30, 60), b);
    assertEquals(new Box(70, 20, 90, 60), b.flippedHorizontally(100), "x1' = W - x2, x2' = W - x1");
    assertArrayEquals(new double[] {10, 20, 20, 40}, b.xywh());
    assertArrayEquals(new double[] {0.2, 0.4, 0.2, 0.4}, b.normalizedCxCyWh(100), 1e-12);
    // crop at (15, 15) of 30 x 10: (10, 20, 30, 60) -> (-5, 5, 15, 45), clipped to (0, 5, 15, 10)
    assertEquals(new Box(0, 5, 15, 10), b.cropped(15, 15, 30, 10));
    assertEquals(1.0 / 3, new Box(0, 0, 2, 1).iou(new Box(1, 0, 3, 1)), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> new Box(5, 0, 4, 1));
  }

  @Test
  void flipMovesImageBoxAndWordsTogether() {
    BoxedImage s = redBlock(50, 30, new Box(5, 10, 15, 20), "the red square on the left of the bright circle");
    BoxedImage f = GroundingTransforms.flip(s);
    try (Mat a = s.image(); Mat b = f.image()) {
      assertEquals(new Box(35, 10, 45, 20), f.box());
      assertBoxOnRed(f);
      assertEquals("the red square on the right of the bright circle", f.text());
    }
  }

  @Test
  void letterboxGeometry() {
    // 200 x 100 -> long side 100: 100 x 50, box halves; pad 50 rows: top = round(25 - 0.1) = 25
    BoxedImage s = redBlock(200, 100, new Box(20, 10, 60, 50), "a red block");
    BoxedImage l = Letterbox.fit(s, 100);
    try (Mat a = s.image(); Mat b = l.image()) {
      assertEquals(100, b.cols());
      assertEquals(100, b.rows());
      assertEquals(new Box(10, 30, 30, 50), l.box());
      assertArrayEquals(new int[] {0, 25, 100, 50}, l.content());
      assertArrayEquals(Letterbox.PAD_RGB, Pixels.at(b, 50, 10), "padding is the CLIP mean colour");
      assertArrayEquals(Letterbox.PAD_RGB, Pixels.at(b, 50, 90));
      assertBoxOnRed(l);
      for (int c = 0; c < 3; c++) {
        double normalised = (Letterbox.PAD_RGB[c] / 255.0 - ImageBatch.MEAN[c]) / ImageBatch.STD[c];
        assertTrue(Math.abs(normalised) < 0.008, "pad normalises to ~0: " + normalised);
      }
    }
    // odd padding: 10 x 5 on an 10-canvas: dh = 5 -> top = round(2.4) = 2, bottom 3
    try (Mat m = Pixels.filled(10, 5, 9, 9, 9)) {
      BoxedImage p = Letterbox.pad(new BoxedImage(m, new Box(0, 0, 1, 1), "x"), 10, false, null);
      try (Mat img = p.image()) {
        assertArrayEquals(new int[] {0, 2, 10, 5}, p.content());
        assertEquals(new Box(0, 2, 1, 3), p.box());
      }
    }
  }

  @Test
  void translatePlacesTheImageAnywhereOnTheCanvas() {
    try (Mat m = Pixels.filled(10, 4, 9, 9, 9)) {
      BoxedImage s = new BoxedImage(m, new Box(1, 1, 2, 2), "x");
      boolean[] seenTop = new boolean[7];
      SplittableRandom rng = new SplittableRandom(3);
      for (int i = 0; i < 200; i++) {
        BoxedImage p = Letterbox.pad(s, 10, true, rng);
        try (Mat img = p.image()) {
          int[] c = p.content();
          assertEquals(0, c[0]);
          seenTop[c[1]] = true;
          assertEquals(new Box(1, 1 + c[1], 2, 2 + c[1]), p.box());
        }
      }
      for (int t = 0; t <= 6; t++) assertTrue(seenTop[t], "top = " + t + " reachable");
    }
  }

  @Test
  void sizeCropKeepsTheWholeBox() {
    BoxedImage s = redBlock(700, 500, new Box(300, 200, 340, 260), "a red block");
    SplittableRandom rng = new SplittableRandom(11);
    for (int i = 0; i < 20; i++) {
      BoxedImage c = GroundingTransforms.randomSizeCrop(s, 384, 600, 20, rng);
      try (Mat img = c.image()) {
        assertTrue(img.cols() >= 384 && img.cols() <= 600 && img.rows() >= 384 && img.rows() <= 500);
        assertEquals(40, c.box().width(), 1e-9);
        assertEquals(60, c.box().height(), 1e-9);
        assertBoxOnRed(c);
      }
    }
    s.image().close();
  }

  @Test
  void trainingTransformKeepsBoxOnObjectAndIsSeeded() {
    BoxedImage s = redBlock(160, 120, new Box(100, 30, 140, 70), "a red block");
    for (long seed = 0; seed < 30; seed++) {
      BoxedImage a = GroundingTransforms.train(s, 96, GroundingTransforms.Options.DEFAULT,
          new SplittableRandom(seed));
      BoxedImage b = GroundingTransforms.train(s, 96, GroundingTransforms.Options.DEFAULT,
          new SplittableRandom(seed));
      try (Mat ia = a.image(); Mat ib = b.image()) {
        assertEquals(96, ia.cols());
        assertEquals(96, ia.rows());
        assertBoxOnRed(a);
        assertEquals(a.box(), b.box());
        assertArrayEquals(Pixels.bytes(ia), Pixels.bytes(ib), "same seed, same bytes");
      }
    }
    s.image().close();
  }

  @Test
  void jitterChangesColoursButNotGeometry() {
    BoxedImage s = redBlock(20, 20, new Box(5, 5, 10, 10), "x");
    int changed = 0;
    for (long seed = 0; seed < 10; seed++) {
      BoxedImage j = GroundingTransforms.colorJitter(s, 0.4, 0.4, 0.4, new SplittableRandom(seed));
      try (Mat img = j.image()) {
        assertEquals(s.box(), j.box());
        if (Pixels.at(img, 0, 0)[0] != 100) changed++;
      }
    }
    assertTrue(changed >= 5, "jitter applies with p 0.8: " + changed);
    // saturation 0 is the grey image: 0.299 * 230 + 0.587 * 20 + 0.114 * 20 = 82.8
    try (Mat grey = GroundingTransforms.saturation(s.image(), 0.0)) {
      assertArrayEquals(new int[] {83, 83, 83}, Pixels.at(grey, 7, 7));
    }
    s.image().close();
  }
}
