package dev.mplug.eval.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** ROUGE-L (beta = 1.2, beta^2 = 1.44) worked out by hand; the same values as coco-caption's rouge.py. */
class RougeLTest {
  @Test
  void precisionAndRecallAreMaximisedOverReferencesSeparately() {
    // "the cat sat on the mat" (6 words)
    //   vs "the cat is on the mat" (6): LCS "the cat on the mat" = 5 -> P = 5/6, R = 5/6
    //   vs "cat sat" (2): LCS 2 -> P = 2/6, R = 2/2 = 1
    // P = 5/6 (first), R = 1 (second): (1 + 1.44)(5/6)(1) / (1 + 1.44 x 5/6) = 2.0333.. / 2.2 = 0.92424..
    double score = RougeL.score("the cat sat on the mat", List.of("the cat is on the mat", "cat sat"));
    assertEquals(2.44 * 5 / 6 / 2.2, score, 1e-15);
    assertEquals(0.9242424242424241, score, 1e-15);
  }

  @Test
  void emptyAndOneWordCandidates() {
    assertEquals(0.0, RougeL.score("", List.of("a b")), 0.0);
    // "cat" vs "the cat": LCS 1, P = 1, R = 1/2: 2.44 x 0.5 / (0.5 + 1.44) = 1.22 / 1.94
    assertEquals(1.22 / 1.94, RougeL.score("cat", List.of("the cat")), 1e-15);   // 0.6288659793814433
  }

  @Test
  void longestCommonSubsequence() {
    assertEquals(4, RougeL.lcs("a b c d e f".split(" "), "x a c y d f".split(" ")));   // a c d f
    assertEquals(0, RougeL.lcs("a b".split(" "), "c d".split(" ")));
    assertEquals(2, RougeL.lcs("a a".split(" "), "a a a".split(" ")));
  }

  @Test
  void refusesAnImageWithoutReferences() {
    assertThrows(IllegalArgumentException.class, () -> RougeL.score("a", List.of()));
  }
}
