package dev.mplug.data;

/**
 * An axis-aligned box in pixels, corners {@code (x1, y1)} (top-left) and {@code (x2, y2)} (bottom-right): the box of a
 * referring expression as read from an annotation file, as moved by the grounding transforms, and as batched.
 * Annotation files and batches store {@code [x, y, w, h]} ({@link #ofXywh}, {@link #xywh}).
 */
public record Box(double x1, double y1, double x2, double y2) {
  public Box {
    if (!(Double.isFinite(x1) && Double.isFinite(y1) && Double.isFinite(x2) && Double.isFinite(y2))) {
      throw new IllegalArgumentException("box coordinates must be finite: " + x1 + ", " + y1 + ", " + x2 + ", " + y2);
    }
    if (x2 < x1 || y2 < y1) {
      throw new IllegalArgumentException("box corners out of order: (" + x1 + ", " + y1 + ") (" + x2 + ", " + y2 + ")");
    }
  }

  public static Box ofXywh(double x, double y, double w, double h) {
    return new Box(x, y, x + w, y + h);
  }

  /** {@code [x, y, w, h]} as the annotation files write it. */
  public double[] xywh() {
    return new double[] {x1, y1, width(), height()};
  }

  public double width() {
    return x2 - x1;
  }

  public double height() {
    return y2 - y1;
  }

  public Box scaled(double sx, double sy) {
    return new Box(x1 * sx, y1 * sy, x2 * sx, y2 * sy);
  }

  public Box translated(double dx, double dy) {
    return new Box(x1 + dx, y1 + dy, x2 + dx, y2 + dy);
  }

  /** The box after mirroring an image {@code imageWidth} wide: x -> W - x, so the corners swap. */
  public Box flippedHorizontally(int imageWidth) {
    return new Box(imageWidth - x2, y1, imageWidth - x1, y2);
  }

  /** The box seen from a crop whose top-left is (x, y), clipped to the crop's {@code w x h}. */
  public Box cropped(double x, double y, double w, double h) {
    return new Box(clamp(x1 - x, w), clamp(y1 - y, h), clamp(x2 - x, w), clamp(y2 - y, h));
  }

  /** {@code (cx, cy, w, h)} divided by the side of a square canvas: the grounding decoder's target (spec §3). */
  public double[] normalizedCxCyWh(int canvas) {
    return new double[] {(x1 + x2) / 2 / canvas, (y1 + y2) / 2 / canvas, width() / canvas, height() / canvas};
  }

  /** Intersection over union with {@code o} (0 when either box is empty). */
  public double iou(Box o) {
    double iw = Math.max(0, Math.min(x2, o.x2) - Math.max(x1, o.x1));
    double ih = Math.max(0, Math.min(y2, o.y2) - Math.max(y1, o.y1));
    double inter = iw * ih;
    double union = width() * height() + o.width() * o.height() - inter;
    return union <= 0 ? 0 : inter / union;
  }

  private static double clamp(double v, double max) {
    return Math.max(0, Math.min(v, max));
  }
}
