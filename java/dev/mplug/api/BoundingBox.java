package dev.mplug.api;

/**
 * Where a referring expression points: the box's corners, x divided by the image's width and y by its height (so
 * [0, 1] x [0, 1] is the image; a prediction may reach slightly past it), and the image's size in pixels.
 */
public record BoundingBox(double x1, double y1, double x2, double y2, int imageWidth, int imageHeight) {
  /** The corners in pixels of the image: {@code {x1, y1, x2, y2}}. */
  public double[] pixels() {
    return new double[] {x1 * imageWidth, y1 * imageHeight, x2 * imageWidth, y2 * imageHeight};
  }
}
