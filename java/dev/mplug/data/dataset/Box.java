package dev.mplug.data.dataset;

/** A box in pixels of the original image: (x, y) is the top-left corner, w and h the size. */
public record Box(double x, double y, double w, double h) {
  public Box {
    if (!(w >= 0 && h >= 0)) throw new IllegalArgumentException("box size must be >= 0, got w=" + w + " h=" + h);
  }
}
