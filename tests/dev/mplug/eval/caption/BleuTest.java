package dev.mplug.eval.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * BLEU worked out by hand (and equal to coco-caption's bleu_scorer.py with "closest" to the last digits printed).
 * TINY = 1e-15 and SMALL = 1e-9 are the reference's fudge terms: BLEU_n = (prod_k (correct_k + TINY) / (guess_k +
 * SMALL))^(1/n) x BP.
 */
class BleuTest {
  private static List<Double> bleu(String candidate, String... references) {
    Bleu.Result r = Bleu.score(List.of(candidate), List.of(List.of(references)));
    assertEquals(r.corpus(), r.perImage().get(0));   // one image: corpus = per image
    return r.corpus();
  }

  @Test
  void repeatedNgramsAreClippedAndATieTakesTheShorterReference() {
    // "the the the" (3 words) vs "the cat sat on" (4) and "the the" (2): |4-3| = |2-3| = 1, the tie takes 2, so
    // ratio 3/2 >= 1 and no brevity penalty (taking 4 would give exp(1 - 4/3) = 0.72 on every score).
    // unigrams: "the" x3 clipped to its max reference count 2 -> 2/3; bigrams: "the the" x2 clipped to 1 -> 1/2;
    // trigram "the the the": 0/1; 4-grams: 0/0.
    List<Double> b = bleu("the the the", "the cat sat on", "the the");
    double p1 = (2 + 1e-15) / (3 + 1e-9);
    double p2 = (1 + 1e-15) / (2 + 1e-9);
    double p3 = 1e-15 / (1 + 1e-9);
    double p4 = 1e-15 / 1e-9;
    assertEquals(p1, b.get(0), 1e-15);                                      // 0.6666666664444447
    assertEquals(Math.sqrt(p1 * p2), b.get(1), 1e-15);                      // 0.5773502689490636 = sqrt(1/3)
    assertEquals(Math.cbrt(p1 * p2 * p3), b.get(2), 1e-18);                 // 6.933612739269147e-06
    assertEquals(Math.pow(p1 * p2 * p3 * p4, 0.25), b.get(3), 1e-18);       // 4.272870062003943e-06
    assertEquals(0.6666666664444447, b.get(0), 1e-16);
    assertEquals(6.933612739269147e-06, b.get(2), 1e-20);
  }

  @Test
  void aShortCandidatePaysTheBrevityPenalty() {
    // "a cat" (2) vs "a cat sat" (3): ratio 2/3, BP = exp(1 - 3/2) = exp(-0.5) = 0.60653...
    // precisions 2/2, 1/1; no trigram or 4-gram: (0 + TINY)/(0 + SMALL) = 1e-6 each, so BLEU_3 = (1e-6)^(1/3) BP =
    // 0.01 BP and BLEU_4 = (1e-12)^(1/4) BP = 0.001 BP
    List<Double> b = bleu("a cat", "a cat sat");
    double bp = Math.exp(1 - (3 + 1e-9) / (2 + 1e-15));
    assertEquals(Math.exp(-0.5), bp, 1e-9);
    assertEquals(0.6065306591061034, b.get(0), 1e-15);
    assertEquals(0.6065306589544709, b.get(1), 1e-15);
    assertEquals(0.01 * Math.exp(-0.5), b.get(2), 1e-11);                   // 0.0060653065910610355
    assertEquals(0.001 * Math.exp(-0.5), b.get(3), 1e-12);                  // 0.0006065306591819196
  }

  @Test
  void emptyAndOneWordCandidates() {
    // empty: every factor 1e-6, but ratio = 1e-15 / (2 + 1e-9) gives BP = exp(1 - 2e15) = 0
    assertEquals(List.of(0.0, 0.0, 0.0, 0.0), bleu("", "a b"));
    // "cat" vs "a cat": precision 1/1, BP = exp(1 - 2) = 1/e; BLEU_2 = sqrt(1 x 1e-6) / e = 0.001 / e
    List<Double> b = bleu("cat", "a cat");
    assertEquals(Math.exp(-1), b.get(0), 1e-9);                             // 0.3678794404356846
    assertEquals(0.001 * Math.exp(-1), b.get(1), 1e-12);                    // 0.0003678794406196241
    assertEquals(0.3678794404356846, b.get(0), 1e-15);
  }

  @Test
  void theCorpusScoreSumsStatisticsInsteadOfAveragingScores() {
    // images of the first two tests: correct (2+2, 1+1, 0, 0) over guess (3+2, 2+1, 1+0, 0); lengths 3+2 = 5 vs
    // closest references 2+3 = 5: BLEU_1 = 4/5, BLEU_2 = sqrt(4/5 x 2/3) = sqrt(8/15) (the mean of the per-image
    // scores would be 0.637 and 0.592)
    Bleu.Result r = Bleu.score(List.of("the the the", "a cat"),
        List.of(List.of("the cat sat on", "the the"), List.of("a cat sat")));
    assertEquals(0.7999999996800004, r.corpus().get(0), 1e-15);
    assertEquals(Math.sqrt(8.0 / 15), r.corpus().get(1), 1e-9);             // 0.7302967429994167
    assertEquals(0.7302967429994167, r.corpus().get(1), 1e-15);
    assertEquals(8.109602654997713e-06, r.corpus().get(2), 1e-18);
    assertEquals(4.805622825466231e-06, r.corpus().get(3), 1e-18);
    assertEquals(List.of(0.6065306591061034, 0.6065306589544709, 0.0060653065910610355, 0.0006065306591819196),
        r.perImage().get(1));
  }

  @Test
  void refusesImpossibleInputs() {
    assertThrows(IllegalArgumentException.class, () -> Bleu.score(List.of("a"), List.of(List.of())));
    assertThrows(IllegalArgumentException.class, () -> Bleu.score(List.of(), List.of()));
  }
}
