package dev.mplug.data.synth;

import dev.mplug.data.Box;
import dev.mplug.data.synth.Vocabulary.Background;
import dev.mplug.data.synth.Vocabulary.Colour;
import dev.mplug.data.synth.Vocabulary.Shape;
import dev.mplug.data.synth.Vocabulary.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Random scenes: one to {@value #MAX_FIGURES} figures, each a colour-shape pair not repeated in the picture, placed
 * inside the image without touching each other, on a plain, gradient or noisy grey background.
 */
public final class Scenes {
  public static final int MAX_FIGURES = 3;
  private static final int TRIES = 100;

  private Scenes() {}

  public static Scene sample(RandomGenerator rng, int size) {
    Backdrop backdrop = backdrop(rng);
    int wanted = 1 + rng.nextInt(MAX_FIGURES);
    List<Figure> figures = new ArrayList<>();
    for (int i = 0; i < wanted; i++) {
      Figure f = place(rng, size, figures);
      if (f == null) break; // no room left: fewer figures (still deterministic)
      figures.add(f);
    }
    return new Scene(size, backdrop, figures);
  }

  static Backdrop backdrop(RandomGenerator rng) {
    Background kind = Background.values()[rng.nextInt(Background.values().length)];
    int g1 = 50 + rng.nextInt(161); // 50..210
    int g2 = 50 + rng.nextInt(161);
    return new Backdrop(kind, g1, g2, rng.nextBoolean(), rng.nextLong());
  }

  /** A new figure whose colour-shape pair is not in {@code others} and whose box clears theirs; null if none fits. */
  static Figure place(RandomGenerator rng, int size, List<Figure> others) {
    Shape shape;
    Colour colour;
    do {
      shape = Shape.values()[rng.nextInt(Shape.values().length)];
      colour = Colour.values()[rng.nextInt(Colour.values().length)];
    } while (contains(others, shape, colour));
    Size sz = Size.values()[rng.nextInt(Size.values().length)];
    int gap = Math.max(2, size / 32);
    for (int t = 0; t < TRIES; t++) {
      double fraction = sz.minFraction + (sz.maxFraction - sz.minFraction) * rng.nextDouble();
      int radius = Math.max(2, (int) Math.round(fraction * size));
      int lo = radius + 1;
      int hi = size - radius - 2;
      if (hi <= lo) return null;
      Figure f = new Figure(shape, colour, sz, lo + rng.nextInt(hi - lo), lo + rng.nextInt(hi - lo), radius);
      if (fits(f, size, others, gap)) return f;
    }
    return null;
  }

  static boolean fits(Figure f, int size, List<Figure> others, int gap) {
    Box b = f.box();
    if (!inside(b, size)) return false;
    for (Figure o : others) {
      if (!apart(b, o.box(), gap)) return false;
    }
    return true;
  }

  /** Inside the image with a one-pixel margin. */
  static boolean inside(Box b, int size) {
    return b.x1() >= 1 && b.y1() >= 1 && b.x2() <= size - 1 && b.y2() <= size - 1;
  }

  /** At least {@code gap} pixels between the boxes along x or along y. */
  static boolean apart(Box a, Box b, int gap) {
    return a.x2() + gap <= b.x1() || b.x2() + gap <= a.x1() || a.y2() + gap <= b.y1() || b.y2() + gap <= a.y1();
  }

  private static boolean contains(List<Figure> figures, Shape shape, Colour colour) {
    for (Figure f : figures) {
      if (f.shape() == shape && f.colour() == colour) return true;
    }
    return false;
  }
}
