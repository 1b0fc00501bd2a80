package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.data.Box;
import dev.mplug.data.image.BoxedImage;
import dev.mplug.data.image.GroundingTransforms;
import dev.mplug.eval.grounding.NormalizedBox;
import dev.mplug.torch.TorchRuntime;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.junit.jupiter.api.Test;

/** Taking a canvas box back to the image, through the real evaluation letterbox. */
class CanvasPlacementTest {
  @Test
  void aWideImageIsCentredVerticallyAndTheBoxComesBack() {
    TorchRuntime.load();
    try (Mat wide = new Mat(100, 200, opencv_core.CV_8UC3, new Scalar(50, 60, 70, 0))) {
      BoxedImage in = new BoxedImage(wide, Box.ofXywh(50, 25, 100, 50), "the square");
      BoxedImage out = GroundingTransforms.eval(in, 64);
      try (Mat canvas = out.image()) {
        // scale 64 / 200 = 0.32: 64 x 32 placed at top = round(32 / 2 - 0.1) = 16
        CanvasPlacement p = CanvasPlacement.of(out, 200, 100);
        assertEquals(new CanvasPlacement(64, 0, 16, 0.32, 200, 100), p);
        // the annotated box on the canvas: x 16..48, y 24..40, i.e. (cx, cy, w, h) = (0.5, 0.5, 0.5, 0.25) x 64
        assertEquals(Box.ofXywh(16, 24, 32, 16), out.box());
        // back on the image: x 50..150 of 200, y 25..75 of 100
        NormalizedBox back = p.toImage(0.5f, 0.5f, 0.5f, 0.25f);
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.75f, 0.75f},
            new float[] {back.x1(), back.y1(), back.x2(), back.y2()}, 1e-6f);
      }
    }
  }

  @Test
  void aPredictionInThePaddingLeavesTheImage() {
    CanvasPlacement p = new CanvasPlacement(64, 0, 16, 0.32, 200, 100);
    // the canvas's top 16 rows are padding: y = 0..8 on the canvas is -16 .. -8 pixels / 0.32 = -50 .. -25 of 100
    NormalizedBox back = p.toImage(0.25f, 4 / 64f, 0.5f, 8 / 64f);
    assertArrayEquals(new float[] {0f, -0.5f, 0.5f, -0.25f}, new float[] {back.x1(), back.y1(), back.x2(), back.y2()},
        1e-6f);
  }
}
