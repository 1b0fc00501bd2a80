package dev.mplug.data.synth;

import java.util.Locale;

/**
 * Every word the shapes world can say, in one place: shapes, colours (with the RGB they are drawn in), sizes,
 * backgrounds, positions, motions and counts. Captions, questions, answers and referring expressions are built only
 * from these words (plus a few function words), so a tiny model can learn to tie them to pixels.
 */
public final class Vocabulary {
  private Vocabulary() {}

  public enum Shape {
    CIRCLE, SQUARE, TRIANGLE, STAR, DIAMOND, HEXAGON;

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Saturated colours, far from the grey backgrounds and from each other. */
  public enum Colour {
    RED(220, 30, 30), ORANGE(245, 140, 20), YELLOW(240, 220, 30), GREEN(30, 170, 60), BLUE(30, 80, 230),
    PURPLE(150, 50, 190);

    public final int r;
    public final int g;
    public final int b;

    Colour(int r, int g, int b) {
      this.r = r;
      this.g = g;
      this.b = b;
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Radius as a fraction of the image side. */
  public enum Size {
    SMALL(0.07, 0.10), BIG(0.15, 0.20);

    public final double minFraction;
    public final double maxFraction;

    Size(double minFraction, double maxFraction) {
      this.minFraction = minFraction;
      this.maxFraction = maxFraction;
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Background {
    PLAIN("plain"), GRADIENT("gradient"), NOISE("noisy");

    private final String adjective;

    Background(String adjective) {
      this.adjective = adjective;
    }

    /** As in "on a noisy background". */
    public String adjective() {
      return adjective;
    }
  }

  /** Where a shape is, by thirds of the image: horizontal left/middle/right, vertical top/middle/bottom. */
  public enum Horizontal {
    LEFT, MIDDLE, RIGHT;

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public enum Vertical {
    TOP, MIDDLE, BOTTOM;

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How a shape moves in a video; the word answers "which direction does ... move". */
  public enum Direction {
    LEFT(-1, 0), RIGHT(1, 0), UP(0, -1), DOWN(0, 1);

    public final int dx;
    public final int dy;

    Direction(int dx, int dy) {
      this.dx = dx;
      this.dy = dy;
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Count words for captions ("two shapes"); answers use digits as VQA does ("2"). */
  public static final String[] NUMBER_WORDS = {"no", "one", "two", "three", "four", "five"};

  /** "a red circle", "an orange square". */
  public static String a(String phrase) {
    return ("aeiou".indexOf(phrase.charAt(0)) >= 0 ? "an " : "a ") + phrase;
  }

  public static final String YES = "yes";
  public static final String NO = "no";
}
