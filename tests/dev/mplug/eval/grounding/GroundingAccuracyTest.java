package dev.mplug.eval.grounding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.Box;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** IoU and accuracy values worked out by hand (all of them exact in float32). */
class GroundingAccuracyTest {
  static NormalizedBox box(float x1, float y1, float x2, float y2) {
    return new NormalizedBox(x1, y1, x2, y2);
  }

  @Test
  void iouIsIntersectionOverUnionWithoutThePlusOnePixel() {
    NormalizedBox truth = box(0f, 0f, 0.5f, 0.5f);   // area 0.25
    assertEquals(1f, GroundingAccuracy.iou(truth, truth));
    // half of it: inter 0.125, union 0.25 + 0.125 - 0.125 = 0.25 (the 1e-16 vanishes in float32): exactly 0.5
    assertEquals(0.5f, GroundingAccuracy.iou(box(0f, 0f, 0.25f, 0.5f), truth));
    // shifted by a quarter: inter 0.25 x 0.5 = 0.125, union 0.25 + 0.25 - 0.125 = 0.375: 1/3
    assertEquals(1f / 3, GroundingAccuracy.iou(box(0.25f, 0f, 0.75f, 0.5f), truth));
    assertEquals(0f, GroundingAccuracy.iou(box(0.5f, 0.5f, 1f, 1f), truth));   // touching corners
  }

  @Test
  void zeroWidthOrHeightGivesZeroNotNaN() {
    NormalizedBox line = box(0.3f, 0.2f, 0.3f, 0.8f);
    assertEquals(0f, GroundingAccuracy.iou(line, box(0f, 0f, 1f, 1f)));
    // 0 / (0 + 0 - 0 + 1e-16) = 0, where a plain 0 / 0 would be NaN
    assertEquals(0f, line.iou(line));
    NormalizedBox point = box(0.5f, 0.5f, 0.5f, 0.5f);
    assertEquals(0f, point.iou(point));
  }

  @Test
  void thePredictionIsClampedToTheUnitSquareTheTruthIsNot() {
    NormalizedBox truth = box(0f, 0f, 0.5f, 1f);
    NormalizedBox overhanging = box(-1f, 0f, 0.5f, 1f);
    // unclamped: inter 0.5, union 1.5 + 0.5 - 0.5 = 1.5: 1/3; clamped to [0, 0.5] x [0, 1] it is the truth: 1
    assertEquals(1f / 3, overhanging.iou(truth));
    assertEquals(1f, GroundingAccuracy.iou(overhanging, truth));
    assertEquals(box(0.5f, 0f, 1f, 1f), box(0.5f, -0.25f, 2f, 1.5f).clampedToUnit());
  }

  @Test
  void centreInsideLooksAtTheCentreOnly() {
    NormalizedBox truth = box(0.2f, 0.2f, 0.6f, 0.4f);
    assertTrue(box(0.3f, 0.25f, 0.5f, 0.35f).centreInside(truth));    // centre (0.4, 0.3)
    assertTrue(box(0f, 0f, 1f, 0.8f).centreInside(truth));             // far too big, centre (0.5, 0.4) on the edge
    assertFalse(box(0.5f, 0.2f, 0.9f, 0.4f).centreInside(truth));     // overlapping, centre (0.7, 0.3) outside
    assertFalse(box(0.2f, 0.4f, 0.6f, 0.5f).centreInside(truth));     // touching below, centre (0.4, 0.45)
  }

  @Test
  void accuracyCountsIouOfAtLeastOneHalf() {
    NormalizedBox truth = box(0f, 0f, 0.5f, 0.5f);
    Map<String, NormalizedBox> gt = new LinkedHashMap<>();
    gt.put("7", truth);
    gt.put("8", truth);
    gt.put("9", truth);
    Map<String, NormalizedBox> predictions = Map.of(
        "7", truth,                                // IoU 1
        "8", box(0f, 0f, 0.25f, 0.5f),            // IoU 0.5 exactly: counts
        "9", box(0f, 0f, 0.25f, 0.25f));         // inter 0.0625, union 0.25: 0.25
    GroundingAccuracy.Report r = GroundingAccuracy.score(gt, predictions);
    assertEquals(2.0 / 3, r.accuracy());
    assertEquals(3, r.count());
    assertEquals(Map.of("7", 1f, "8", 0.5f, "9", 0.25f), r.perItem());
    assertEquals(List.of("7", "8", "9"), List.copyOf(r.perItem().keySet()));
  }

  @Test
  void pixelBoxesAreNormalisedByTheImageSize() {
    // [x, y, w, h] = [10, 20, 30, 40] on a 100 x 200 image: x / 100, y / 200 -> [0.1, 0.1, 0.4, 0.3]
    assertEquals(box(0.1f, 0.1f, 0.4f, 0.3f), NormalizedBox.of(Box.ofXywh(10, 20, 30, 40), 100, 200));
  }

  @Test
  void badBoxesAndMismatchedIdsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> box(0.5f, 0f, 0.4f, 1f));
    assertThrows(IllegalArgumentException.class, () -> box(Float.NaN, 0f, 0.4f, 1f));
    Map<String, NormalizedBox> gt = Map.of("1", box(0f, 0f, 1f, 1f));
    assertEquals("no prediction for item 1",
        assertThrows(IllegalArgumentException.class, () -> GroundingAccuracy.score(gt, Map.of())).getMessage());
    assertEquals("prediction for item 2 which has no annotated box", assertThrows(IllegalArgumentException.class,
        () -> GroundingAccuracy.score(gt, Map.of("1", box(0f, 0f, 1f, 1f), "2", box(0f, 0f, 1f, 1f)))).getMessage());
  }
}
