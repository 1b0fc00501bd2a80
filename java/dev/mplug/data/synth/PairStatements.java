package dev.mplug.data.synth;

import dev.mplug.data.synth.Vocabulary.Colour;
import dev.mplug.data.synth.Vocabulary.Shape;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * NLVR2-style statements about a pair of scenes (the left and the right image), each true or false by construction:
 * what one image contains ("the left image contains a red circle"), a colour both images share ("both images contain
 * a blue shape"), and which image has more shapes ("the right image has more shapes than the left image", "both
 * images have the same number of shapes"). The generator asks for the truth value first and then builds a statement
 * that has it, so the labels are balanced and every template appears with both labels: the text alone never gives
 * the answer away.
 */
public final class PairStatements {
  private static final String[] SIDES = {"left", "right"};

  private PairStatements() {}

  /** A statement and whether it holds of the pair. */
  public record Statement(String sentence, boolean label) {}

  /** One statement about (left, right) whose truth value is drawn fair from {@code rng}. */
  public static Statement sample(Scene left, Scene right, RandomGenerator rng) {
    boolean truth = rng.nextBoolean();
    int kind = rng.nextInt(3);
    if (kind == 1) {
      Statement s = sharedColour(left, right, truth);
      if (s != null) return s;
    }
    if (kind == 2) return moreShapes(left, right, truth, rng);
    return contains(rng.nextBoolean() ? left : right, left, truth, rng);
  }

  /** "the left image contains a red circle": a figure of that image, or a colour-shape pair it lacks. */
  static Statement contains(Scene image, Scene left, boolean truth, RandomGenerator rng) {
    String side = SIDES[image == left ? 0 : 1];
    List<Figure> fs = image.figures();
    String name;
    if (truth) {
      name = fs.get(rng.nextInt(fs.size())).name();
    } else {
      Shape s;
      Colour c;
      do {
        s = Shape.values()[rng.nextInt(Shape.values().length)];
        c = Colour.values()[rng.nextInt(Colour.values().length)];
      } while (has(fs, s, c));
      name = c.word() + " " + s.word();
    }
    return new Statement("the " + side + " image contains " + Vocabulary.a(name), truth);
  }

  /**
   * "both images contain a red shape": the first colour (in palette order) both have when {@code truth}, else the
   * first colour of the left image the right one lacks; null when the pair has no such colour.
   */
  static Statement sharedColour(Scene left, Scene right, boolean truth) {
    for (Colour c : Colour.values()) {
      boolean inLeft = SceneText.countColour(left.figures(), c) > 0;
      boolean inRight = SceneText.countColour(right.figures(), c) > 0;
      if (inLeft && inRight == truth) return new Statement("both images contain " + Vocabulary.a(c.word()) + " shape",
          truth);
    }
    return null;
  }

  /** Which image has more shapes, or "the same number", phrased to be {@code truth}. */
  static Statement moreShapes(Scene left, Scene right, boolean truth, RandomGenerator rng) {
    int l = left.figures().size();
    int r = right.figures().size();
    if (l == r) {
      if (truth) return new Statement("both images have the same number of shapes", true);
      String side = SIDES[rng.nextInt(2)];
      return new Statement(more(side), false);
    }
    String more = l > r ? "left" : "right";
    if (truth) return new Statement(more(more), true);
    return rng.nextBoolean() ? new Statement(more(more.equals("left") ? "right" : "left"), false)
        : new Statement("both images have the same number of shapes", false);
  }

  private static String more(String side) {
    return "the " + side + " image has more shapes than the " + (side.equals("left") ? "right" : "left") + " image";
  }

  static boolean has(List<Figure> fs, Shape s, Colour c) {
    for (Figure f : fs) if (f.shape() == s && f.colour() == c) return true;
    return false;
  }
}
