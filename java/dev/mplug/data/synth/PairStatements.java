package dev.mplug.data.synth;

import dev.mplug.data.synth.Vocabulary.Colour;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * NLVR2-style statements about a pair of scenes (the left and the right image), each true or false by construction:
 * a colour one image shows ("the left image contains a red shape"), a colour both images show ("both images contain
 * a blue shape"), and which image has more shapes ("the right image has more shapes than the left image", "both
 * images have the same number of shapes"). The generator draws the truth value first and then builds a statement
 * that has it, so the labels are balanced and every template appears with both labels: the text alone never gives
 * the answer away. Colours rather than colour-shape pairs: a model as small as the demo's reads colours within a
 * short fine-tuning, while binding colour to shape takes far longer (the shapes world's other tasks cover shapes).
 */
public final class PairStatements {
  private static final String[] SIDES = {"left", "right"};

  private PairStatements() {}

  /** A statement and whether it holds of the pair. */
  public record Statement(String sentence, boolean label) {}

  /** One statement about (left, right) whose truth value is drawn fair from {@code rng}. */
  public static Statement sample(Scene left, Scene right, RandomGenerator rng) {
    boolean truth = rng.nextBoolean();
    double kind = rng.nextDouble();
    if (kind < 0.4) {
      Statement s = sharedColour(left, right, truth);
      if (s != null) return s;
    } else if (kind < 0.6) {
      return moreShapes(left, right, truth, rng);
    }
    boolean onLeft = rng.nextBoolean();
    return containsColour(onLeft ? left : right, SIDES[onLeft ? 0 : 1], truth, rng);
  }

  /** "the left image contains a red shape": a colour of that image, or one it lacks. */
  static Statement containsColour(Scene image, String side, boolean truth, RandomGenerator rng) {
    return new Statement("the " + side + " image contains " + Vocabulary.a(colour(image, truth, rng).word())
        + " shape", truth);
  }

  /** A colour drawn from those {@code scene} shows ({@code shown}) or from those it lacks. */
  static Colour colour(Scene scene, boolean shown, RandomGenerator rng) {
    List<Colour> pick = new ArrayList<>();
    for (Colour c : Colour.values()) if ((SceneText.countColour(scene.figures(), c) > 0) == shown) pick.add(c);
    return pick.get(rng.nextInt(pick.size()));
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
}
