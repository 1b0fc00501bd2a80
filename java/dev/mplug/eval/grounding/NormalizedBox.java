package dev.mplug.eval.grounding;

import dev.mplug.data.Box;

/**
 * A box as the grounding evaluation compares it: corners {@code (x1, y1)} top-left and {@code (x2, y2)} bottom-right,
 * x divided by the image's width and y by its height, so that [0, 1] x [0, 1] is the image. Single precision, as the
 * reference's tensors.
 */
public record NormalizedBox(float x1, float y1, float x2, float y2) {
  /**
   * The reference adds this to the union before dividing (as a Python float, so it takes the tensors' float32): it
   * turns 0 / 0 into 0 and vanishes against any union above about 1e-9.
   */
  static final float UNION_EPSILON = 1e-16f;

  public NormalizedBox {
    if (!(Float.isFinite(x1) && Float.isFinite(y1) && Float.isFinite(x2) && Float.isFinite(y2))) {
      throw new IllegalArgumentException("box coordinates must be finite, got [" + x1 + ", " + y1 + ", " + x2 + ", "
          + y2 + "]");
    }
    if (x2 < x1 || y2 < y1) {
      throw new IllegalArgumentException("box corners out of order: [" + x1 + ", " + y1 + ", " + x2 + ", " + y2
          + "] needs x1 <= x2 and y1 <= y2");
    }
  }

  /** {@code pixels} of an image {@code width x height} pixels, normalised. */
  public static NormalizedBox of(Box pixels, int width, int height) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("image size must be positive, got " + width + " x " + height);
    }
    return new NormalizedBox((float) (pixels.x1() / width), (float) (pixels.y1() / height),
        (float) (pixels.x2() / width), (float) (pixels.y2() / height));
  }

  /** Each coordinate clamped to [0, 1], as the reference clamps a prediction. */
  public NormalizedBox clampedToUnit() {
    return new NormalizedBox(unit(x1), unit(y1), unit(x2), unit(y2));
  }

  public float area() {
    return (x2 - x1) * (y2 - y1);
  }

  /**
   * Intersection over union in float32, in the reference's order of operations ({@code bbox_iou} of vgTools):
   * {@code inter / (area + other.area - inter + 1e-16)}, widths as plain differences (no "+1 pixel"). A box of zero
   * width or height has IoU 0 with anything, itself included, never NaN.
   */
  public float iou(NormalizedBox o) {
    float interWidth = Math.max(Math.min(x2, o.x2) - Math.max(x1, o.x1), 0f);
    float interHeight = Math.max(Math.min(y2, o.y2) - Math.max(y1, o.y1), 0f);
    float inter = interWidth * interHeight;
    return inter / (area() + o.area() - inter + UNION_EPSILON);
  }

  /** Whether this box's centre lies in {@code o} (edges included). */
  public boolean centreInside(NormalizedBox o) {
    float cx = (x1 + x2) / 2;
    float cy = (y1 + y2) / 2;
    return cx >= o.x1 && cx <= o.x2 && cy >= o.y1 && cy <= o.y2;
  }

  private static float unit(float v) {
    return Math.min(Math.max(v, 0f), 1f);
  }
}
