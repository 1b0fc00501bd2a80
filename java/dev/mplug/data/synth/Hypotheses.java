package dev.mplug.data.synth;

import dev.mplug.data.synth.Vocabulary.Colour;
import dev.mplug.data.synth.Vocabulary.Shape;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * SNLI-VE-style hypotheses about a scene, one of each class: entailed (a figure the picture shows, or its number of
 * shapes), contradicted (a colour-shape pair it lacks, or a wrong number of shapes: the same two templates, so only
 * the picture tells these two apart), and neutral (what a picture cannot show: what a shown figure is made of or who
 * drew it).
 */
public final class Hypotheses {
  /** SNLI-VE's label strings. */
  public static final String ENTAILMENT = "entailment";
  public static final String NEUTRAL = "neutral";
  public static final String CONTRADICTION = "contradiction";

  private static final String[] MATERIALS = {"wood", "paper", "metal", "glass", "plastic"};
  private static final String[] MAKERS = {"a child", "a teacher", "a painter"};

  private Hypotheses() {}

  /** A hypothesis sentence and its SNLI-VE label. */
  public record Hypothesis(String sentence, String label) {}

  /** Entailed, neutral and contradicted, in that order. */
  public static List<Hypothesis> of(Scene scene, RandomGenerator rng) {
    List<Figure> fs = scene.figures();
    int n = fs.size();
    boolean count = rng.nextBoolean();
    Hypothesis entailed = new Hypothesis(count ? shapes(n)
        : "there is " + Vocabulary.a(fs.get(rng.nextInt(n)).name()), ENTAILMENT);
    Hypothesis contradicted = new Hypothesis(count ? shapes(1 + (n + rng.nextInt(Scenes.MAX_FIGURES - 1))
        % Scenes.MAX_FIGURES) : "there is " + Vocabulary.a(absent(fs, rng)), CONTRADICTION);
    String name = fs.get(rng.nextInt(n)).name();
    Hypothesis neutral = new Hypothesis(rng.nextBoolean()
        ? "the " + name + " is made of " + MATERIALS[rng.nextInt(MATERIALS.length)]
        : "the " + name + " was drawn by " + MAKERS[rng.nextInt(MAKERS.length)], NEUTRAL);
    return List.of(entailed, neutral, contradicted);
  }

  /** "there is one shape", "there are three shapes". */
  private static String shapes(int n) {
    return n == 1 ? "there is one shape" : "there are " + Vocabulary.NUMBER_WORDS[n] + " shapes";
  }

  private static String absent(List<Figure> fs, RandomGenerator rng) {
    Shape s;
    Colour c;
    do {
      s = Shape.values()[rng.nextInt(Shape.values().length)];
      c = Colour.values()[rng.nextInt(Colour.values().length)];
    } while (PairStatements.has(fs, s, c));
    return c.word() + " " + s.word();
  }
}
