package dev.mplug.eval.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CIDEr-D on a three-image corpus worked out by hand (the same values coco-caption's cider_scorer.py gives).
 *
 * <p>References: image 1 {"a dog", "a cat"}, image 2 {"a dog runs"}, image 3 {"the cat"}; R = 3 reference sets.
 * Document frequencies: a 2, dog 2, cat 2, "a dog" 2, and 1 for runs, the, "a cat", "dog runs", "a dog runs",
 * "the cat". So an n-gram with df 2 weighs u = log 3 - log 2 = log 1.5 per occurrence, one with df 1 (or unseen, max(1,
 * df) = 1) weighs v = log 3.
 */
class CiderDTest {
  private static final double U = Math.log(1.5);   // 0.405465...
  private static final double V = Math.log(3);     // 1.098612...
  private static final List<List<String>> REFS = List.of(List.of("a dog", "a cat"), List.of("a dog runs"),
      List.of("the cat"));
  private static final CiderD CIDER = CiderD.fromReferences(REFS);

  @Test
  void repeatedNgramsAreClippedAndLengthsPenalised() {
    // candidate "a dog dog": unigrams a = u, dog = 2u (norm u sqrt 5); bigrams "a dog" = u, "dog dog" = v (norm
    // sqrt(u^2 + v^2)); trigram "a dog dog" = v; 2 bigrams long.
    // vs "a dog" (a = u, dog = u, norm u sqrt 2; "a dog" = u; 1 bigram):
    //   n=1: (min(u,u) u + min(2u,u) u) / (u sqrt 5 * u sqrt 2) = 2 / sqrt 10   (dog clipped to the reference's u)
    //   n=2: u^2 / (sqrt(u^2 + v^2) u) = u / sqrt(u^2 + v^2); n=3: reference norm 0 -> 0; n=4: 0
    // vs "a cat" (a = u, cat = u; "a cat" = v): n=1: u^2 / (u sqrt 5 * u sqrt 2) = 1 / sqrt 10; n>=2: 0
    // both with the penalty exp(-(2 - 1)^2 / (2 * 6^2)) = exp(-1/72)
    // score = 10 * (3 / sqrt 10 + u / sqrt(u^2 + v^2)) * exp(-1/72) / 4 (n) / 2 (references) = 1.596330129764668
    double expected = 10 * (3 / Math.sqrt(10) + U / Math.sqrt(U * U + V * V)) * Math.exp(-1.0 / 72) / 8;
    assertEquals(1.596330129764668, expected, 1e-15);
    assertEquals(expected, CIDER.score("a dog dog", REFS.get(0)), 1e-12);
  }

  @Test
  void anExactMatchScoresThreeQuartersOfTen() {
    // identical vectors: cosine 1 for n = 1, 2, 3; no 4-grams (both norms 0 -> 0); same length -> no penalty
    assertEquals(10 * 3 / 4.0, CIDER.score("a dog runs", REFS.get(1)), 1e-12);
  }

  @Test
  void emptyAndOneWordCandidates() {
    assertEquals(0.0, CIDER.score("", REFS.get(2)), 0.0);
    // "cat" (cat = u, 0 bigrams) vs "the cat" (the = v, cat = u, 1 bigram): n=1: u^2 / (u sqrt(u^2 + v^2)); penalty
    // exp(-1/72); score = 10 * u / sqrt(u^2 + v^2) * exp(-1/72) / 4 = 0.8536647093455697
    assertEquals(10 * U / Math.sqrt(U * U + V * V) * Math.exp(-1.0 / 72) / 4, CIDER.score("cat", REFS.get(2)), 1e-12);
    assertEquals(0.8536647093455697, CIDER.score("cat", REFS.get(2)), 1e-12);
  }

  @Test
  void theCorpusScoreIsTheMeanOverImages() {
    // (1.596330129764668 + 7.5 + 0) / 3
    assertEquals(3.0321100432548893, CIDER.corpusScore(List.of("a dog dog", "a dog runs", ""), REFS), 1e-12);
  }

  @Test
  void refusesImpossibleInputs() {
    assertThrows(IllegalArgumentException.class, () -> CiderD.fromReferences(List.of()));
    assertThrows(IllegalArgumentException.class, () -> CIDER.score("a dog", List.of()));
    assertThrows(IllegalArgumentException.class, () -> CIDER.corpusScore(List.of("a"), REFS));
  }
}
