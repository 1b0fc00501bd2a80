package dev.mplug.task.grounding;

import dev.mplug.data.image.BoxedImage;
import dev.mplug.eval.grounding.NormalizedBox;

/**
 * Where the evaluation letterbox put an image on the square canvas, to take a predicted box back to the image:
 * the image ({@code width x height} pixels) was scaled by {@code scale = canvas / max(width, height)} and placed with
 * its top-left corner at {@code (left, top)} (see {@code data.image.Letterbox}).
 */
public record CanvasPlacement(int canvas, int left, int top, double scale, int width, int height) {
  public CanvasPlacement {
    if (canvas <= 0 || width <= 0 || height <= 0 || !(scale > 0)) {
      throw new IllegalArgumentException("canvas placement needs positive sizes and scale, got canvas " + canvas
          + ", image " + width + " x " + height + ", scale " + scale);
    }
  }

  /** The placement of an image {@code width x height} that the letterbox turned into {@code letterboxed}. */
  public static CanvasPlacement of(BoxedImage letterboxed, int width, int height) {
    int canvas = letterboxed.image().cols();
    int[] content = letterboxed.content();
    return new CanvasPlacement(canvas, content[0], content[1], (double) canvas / Math.max(width, height), width,
        height);
  }

  /**
   * A box predicted on the canvas, (cx, cy, w, h) divided by the canvas side, as corners over the image:
   * {@code x1 = ((cx - w / 2) x canvas - left) / scale / width}, likewise y with top and height. Not clamped.
   */
  public NormalizedBox toImage(float cx, float cy, float w, float h) {
    return new NormalizedBox(x((double) cx - w / 2.0), y((double) cy - h / 2.0), x((double) cx + w / 2.0),
        y((double) cy + h / 2.0));
  }

  private float x(double c) {
    return (float) ((c * canvas - left) / scale / width);
  }

  private float y(double c) {
    return (float) ((c * canvas - top) / scale / height);
  }
}
