package dev.mplug.data.synth;

import dev.mplug.data.synth.Vocabulary.Colour;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * SNLI-VE-style hypotheses about a scene, one of each class: entailed (a colour the picture shows), contradicted (a
 * colour it lacks: the same template, so only the picture tells these two apart), and neutral (what a picture cannot
 * show: what a shown figure is made of or who drew it). Colours, as in {@link PairStatements}: what the demo's model
 * reads within a short fine-tuning once its pretraining has taught ITM ({@code ./mplug demo --task snli-ve}, 300
 * steps: entailed 80.7%, contradicted 79.3%, neutral 100% of 150 each).
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
    Hypothesis entailed = new Hypothesis(colour(PairStatements.colour(scene, true, rng)), ENTAILMENT);
    Hypothesis contradicted = new Hypothesis(colour(PairStatements.colour(scene, false, rng)), CONTRADICTION);
    List<Figure> fs = scene.figures();
    String name = fs.get(rng.nextInt(fs.size())).name();
    Hypothesis neutral = new Hypothesis(rng.nextBoolean()
        ? "the " + name + " is made of " + MATERIALS[rng.nextInt(MATERIALS.length)]
        : "the " + name + " was drawn by " + MAKERS[rng.nextInt(MAKERS.length)], NEUTRAL);
    return List.of(entailed, neutral, contradicted);
  }

  /** "there is a red shape". */
  private static String colour(Colour c) {
    return "there is " + Vocabulary.a(c.word()) + " shape";
  }
}
