package dev.mplug.data.synth;

import dev.mplug.data.synth.Vocabulary.Colour;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * NLVR2-style statements about a pair of scenes (the left and the right image), each true or false by construction,
 * of three kinds: a colour one image shows ("the left image contains a red shape"), a colour both images show ("both
 * images contain a blue shape"), and which image has more shapes ("the right image has more shapes than the left
 * image", "both images have the same number of shapes").
 *
 * <p>No statement gives its label away by its words: the kind and the truth value are drawn first and independently
 * (each kind is true half the time), and the colour named is drawn uniformly from those that make the statement
 * have its truth value. A "both" statement is made only of a pair that shares a colour, and when false it names a
 * colour exactly one of the two images shows: "do the two images share a colour" and "does one image show it" are
 * not enough, each image has to be read for the colour named. A pair that cannot carry the statement drawn (no
 * shared colour, or the same colours in both) is passed over for another right image ({@link #of} answers null).
 * Colours and counts: what the pretraining captions teach (each caption names every figure's colour, one counts
 * the figures); the statements' other words ("image", "contains", "both", "than") are not in the captions.
 */
public final class PairStatements {
  private static final String[] SIDES = {"left", "right"};

  private PairStatements() {}

  /** What a statement is about. */
  public enum Kind {
    /** "the left image contains a red shape" (40% of the statements). */
    CONTAINS,
    /** "both images contain a red shape" (40%). */
    BOTH,
    /** "the left image has more shapes than the right image", "both images have the same number of shapes" (20%). */
    MORE;

    /** A kind in the shares above. */
    public static Kind draw(RandomGenerator rng) {
      double u = rng.nextDouble();
      return u < 0.4 ? CONTAINS : u < 0.8 ? BOTH : MORE;
    }
  }

  /** A statement and whether it holds of the pair. */
  public record Statement(String sentence, boolean label) {}

  /**
   * A statement of {@code kind} about (left, right) that is {@code truth}, or null when this pair cannot carry it
   * (a "both" statement of a pair without a shared colour, or a false one of a pair with the same colours).
   */
  public static Statement of(Kind kind, boolean truth, Scene left, Scene right, RandomGenerator rng) {
    return switch (kind) {
      case CONTAINS -> {
        boolean onLeft = rng.nextBoolean();
        yield containsColour(onLeft ? left : right, SIDES[onLeft ? 0 : 1], truth, rng);
      }
      case BOTH -> sharedColour(left, right, truth, rng);
      case MORE -> moreShapes(left, right, truth, rng);
    };
  }

  /** "the left image contains a red shape": a colour of that image, or one it lacks. */
  static Statement containsColour(Scene image, String side, boolean truth, RandomGenerator rng) {
    return new Statement("the " + side + " image contains " + Vocabulary.a(colour(image, truth, rng).word())
        + " shape", truth);
  }

  /** A colour drawn from those {@code scene} shows ({@code shown}) or from those it lacks. */
  static Colour colour(Scene scene, boolean shown, RandomGenerator rng) {
    List<Colour> pick = new ArrayList<>();
    for (Colour c : Colour.values()) if (shows(scene, c) == shown) pick.add(c);
    return pick.get(rng.nextInt(pick.size()));
  }

  /**
   * "both images contain a red shape", of a pair that shares a colour: a shared colour when {@code truth}, else a
   * colour exactly one of the images shows; null when the pair shares no colour or has no such colour.
   */
  static Statement sharedColour(Scene left, Scene right, boolean truth, RandomGenerator rng) {
    List<Colour> shared = new ArrayList<>();
    List<Colour> once = new ArrayList<>();
    for (Colour c : Colour.values()) {
      boolean inLeft = shows(left, c);
      boolean inRight = shows(right, c);
      if (inLeft && inRight) shared.add(c);
      if (inLeft != inRight) once.add(c);
    }
    List<Colour> pick = truth ? shared : once;
    if (shared.isEmpty() || pick.isEmpty()) return null;
    return new Statement("both images contain " + Vocabulary.a(pick.get(rng.nextInt(pick.size())).word()) + " shape",
        truth);
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

  private static boolean shows(Scene scene, Colour c) {
    return SceneText.countColour(scene.figures(), c) > 0;
  }

  private static String more(String side) {
    return "the " + side + " image has more shapes than the " + (side.equals("left") ? "right" : "left") + " image";
  }
}
