package dev.mplug.data.synth;

import dev.mplug.data.Box;
import dev.mplug.data.synth.Vocabulary.Colour;
import dev.mplug.data.synth.Vocabulary.Horizontal;
import dev.mplug.data.synth.Vocabulary.Shape;
import dev.mplug.data.synth.Vocabulary.Size;
import dev.mplug.data.synth.Vocabulary.Vertical;

/**
 * One shape in a scene: kind, colour, size class, integer centre and radius (pixels). Drawn without anti-aliasing so
 * that {@link #box()} is exact: the tight box of the painted pixels, corners in pixel-edge coordinates (a pixel at
 * column x covers [x, x + 1)).
 */
public record Figure(Shape shape, Colour colour, Size size, int cx, int cy, int radius) {
  public Figure {
    if (radius < 2) throw new IllegalArgumentException("figure radius must be >= 2 pixels, got " + radius);
  }

  /** Polygon vertices {x0, y0, x1, y1, ...} (pixel centres); a circle has none. */
  public int[] vertices() {
    return switch (shape) {
      case CIRCLE -> new int[0];
      case SQUARE -> {
        int h = (int) Math.round(radius * 0.85);
        yield new int[] {cx - h, cy - h, cx + h, cy - h, cx + h, cy + h, cx - h, cy + h};
      }
      case TRIANGLE -> new int[] {cx, cy - radius, cx + radius, cy + (int) Math.round(radius * 0.8), cx - radius,
          cy + (int) Math.round(radius * 0.8)};
      case DIAMOND -> new int[] {cx, cy - radius, cx + (int) Math.round(radius * 0.75), cy, cx, cy + radius,
          cx - (int) Math.round(radius * 0.75), cy};
      case HEXAGON -> polygon(6, radius, radius, 0);
      case STAR -> polygon(10, radius, radius * 0.45, -Math.PI / 2);
    };
  }

  /** The tight box of the painted pixels. */
  public Box box() {
    if (shape == Shape.CIRCLE) return new Box(cx - radius, cy - radius, cx + radius + 1, cy + radius + 1);
    int[] v = vertices();
    int x1 = Integer.MAX_VALUE;
    int y1 = Integer.MAX_VALUE;
    int x2 = Integer.MIN_VALUE;
    int y2 = Integer.MIN_VALUE;
    for (int i = 0; i < v.length; i += 2) {
      x1 = Math.min(x1, v[i]);
      x2 = Math.max(x2, v[i]);
      y1 = Math.min(y1, v[i + 1]);
      y2 = Math.max(y2, v[i + 1]);
    }
    return new Box(x1, y1, x2 + 1, y2 + 1);
  }

  public Figure movedTo(int x, int y) {
    return new Figure(shape, colour, size, x, y, radius);
  }

  /** "small red circle". */
  public String fullName() {
    return size.word() + " " + colour.word() + " " + shape.word();
  }

  /** "red circle" (unique within a scene: the world never repeats a colour-shape pair in one image). */
  public String name() {
    return colour.word() + " " + shape.word();
  }

  /** Third of the image the centre lies in. */
  public Horizontal horizontal(int imageSize) {
    return cx * 3 < imageSize ? Horizontal.LEFT : cx * 3 >= 2 * imageSize ? Horizontal.RIGHT : Horizontal.MIDDLE;
  }

  public Vertical vertical(int imageSize) {
    return cy * 3 < imageSize ? Vertical.TOP : cy * 3 >= 2 * imageSize ? Vertical.BOTTOM : Vertical.MIDDLE;
  }

  /** Whether the centre is at least {@code margin} pixels from both third boundaries (no borderline answers). */
  public boolean clearlyInThird(int imageSize, double margin) {
    return Math.abs(cx - imageSize / 3.0) >= margin && Math.abs(cx - 2 * imageSize / 3.0) >= margin;
  }

  private int[] polygon(int corners, double outer, double inner, double start) {
    int[] v = new int[2 * corners];
    for (int k = 0; k < corners; k++) {
      double a = start + 2 * Math.PI * k / corners;
      double r = k % 2 == 0 ? outer : inner;
      v[2 * k] = cx + (int) Math.round(r * Math.cos(a));
      v[2 * k + 1] = cy + (int) Math.round(r * Math.sin(a));
    }
    return v;
  }
}
