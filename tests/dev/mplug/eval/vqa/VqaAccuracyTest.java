package dev.mplug.eval.vqa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** VQA accuracy values worked out by hand from the official vqaEval rules; the arithmetic is in the comments. */
class VqaAccuracyTest {
  /** {@code n} copies of {@code a} followed by the rest. */
  static List<String> answers(int n, String a, String... rest) {
    List<String> out = new ArrayList<>(Collections.nCopies(n, a));
    out.addAll(List.of(rest));
    return out;
  }

  @Test
  void unanimousAnswersAreComparedWithoutNormalisation() {
    List<String> yes = answers(10, "yes");
    // each of the 10 leave-one-out subsets has 9 matches: min(1, 9/3) = 1
    assertEquals(1.0, VqaAccuracy.accuracy(yes, "yes"));
    assertEquals(1.0, VqaAccuracy.accuracy(yes, " yes\n"));   // cleaning always happens
    // the quirk: one distinct human answer means no normalisation, of the result either
    assertEquals(0.0, VqaAccuracy.accuracy(yes, "yes."));
    assertEquals(0.0, VqaAccuracy.accuracy(yes, "Yes"));
    assertEquals(0.0, VqaAccuracy.accuracy(answers(10, "2"), "two"));
  }

  @Test
  void differingAnswersAreNormalisedWithTheResult() {
    // two distinct answers, so all are normalised: ten "yes", and the result "yes." is "yes" too: 1
    assertEquals(1.0, VqaAccuracy.accuracy(answers(9, "yes", "yes."), "yes."));
    assertEquals(1.0, VqaAccuracy.accuracy(answers(9, "2", "two"), "two"));
    assertEquals(1.0, VqaAccuracy.accuracy(answers(9, "dog", "a dog"), "the dog"));
    assertEquals(1.0, VqaAccuracy.accuracy(answers(9, "don't", "dont"), "dont"));
  }

  @Test
  void threeMatchingHumansGiveFullCreditOverTheLeaveOneOutSubsets() {
    // one "red" among 10: leaving it out leaves 0 matches (0); the 9 others leave 1 (1/3): 9/3 / 10 = 0.3
    assertEquals(0.3, VqaAccuracy.accuracy(answers(1, "red", "blue", "blue", "blue", "blue", "blue", "blue", "blue",
        "blue", "blue"), "red"), 1e-15);
    // two: the 2 reds leave 1 match (1/3 each), the 8 blues leave 2 (2/3 each): (2/3 + 16/3) / 10 = 6/10
    List<String> twoRed = answers(2, "red", "blue", "blue", "blue", "blue", "blue", "blue", "blue", "blue");
    assertEquals(0.6, VqaAccuracy.accuracy(twoRed, "red"), 1e-15);
    // three: (3 * 2/3 + 7 * 1) / 10 = 9/10
    assertEquals(0.9, VqaAccuracy.accuracy(answers(3, "red", "blue", "blue", "blue", "blue", "blue", "blue", "blue"),
        "red"), 1e-15);
    // four: every subset keeps at least 3: 1
    assertEquals(1.0, VqaAccuracy.accuracy(answers(4, "red", "blue", "blue", "blue", "blue", "blue", "blue"), "red"));
    assertEquals(0.0, VqaAccuracy.accuracy(twoRed, "green"));
  }

  @Test
  void fewerThanTenAnswersLeaveOneOutOverThoseGiven() {
    // red, red, blue, blue: the reds leave 1 match (1/3), the blues 2 (2/3): (2/3 + 4/3) / 4 = 0.5
    assertEquals(0.5, VqaAccuracy.accuracy(List.of("red", "red", "blue", "blue"), "red"), 1e-15);
    // a single answer: leaving it out leaves nothing to match: 0, whatever the result
    assertEquals(0.0, VqaAccuracy.accuracy(List.of("red"), "red"));
  }

  @Test
  void perTypeAveragesInPercentRoundedToTwoDecimals() {
    Map<String, VqaAccuracy.Question> gt = new LinkedHashMap<>();
    gt.put("1", new VqaAccuracy.Question(answers(10, "yes"), "yes/no", "is the"));
    gt.put("2", new VqaAccuracy.Question(answers(2, "no", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"),
        "yes/no", "is the"));
    gt.put("3", new VqaAccuracy.Question(answers(1, "3", "4", "4", "4", "4", "4", "4", "4", "4", "4"), "number",
        "how many"));
    VqaAccuracy.Report r = VqaAccuracy.score(gt, Map.of("1", "yes", "2", "no", "3", "three"));
    // per question 1, 0.6, 0.3 ("three" -> "3", one match); overall 100 * 1.9 / 3 = 63.333.. -> 63.33
    assertEquals(Map.of("1", 100.0, "2", 60.0, "3", 30.0), r.perQuestion());
    assertEquals(63.33, r.overall());
    // yes/no: 100 * 1.6 / 2 = 80; number: 30
    assertEquals(Map.of("yes/no", 80.0, "number", 30.0), r.perAnswerType());
    assertEquals(Map.of("is the", 80.0, "how many", 30.0), r.perQuestionType());
    assertEquals(List.of("1", "2", "3"), List.copyOf(r.perQuestion().keySet()));   // the ground truth's order
  }

  @Test
  void roundingIsPythonThreesRoundHalfToEvenOnTheExactDouble() {
    // one right of 32: 100 / 32 = 3.125 exactly, a tie: to even, 3.12 (Python 2's round gave 3.13)
    Map<String, VqaAccuracy.Question> gt = new LinkedHashMap<>();
    Map<String, String> results = new LinkedHashMap<>();
    for (int i = 0; i < 32; i++) {
      gt.put("q" + i, new VqaAccuracy.Question(answers(10, "yes"), "yes/no", "is"));
      results.put("q" + i, i == 0 ? "yes" : "no");
    }
    assertEquals(3.12, VqaAccuracy.score(gt, results).overall());
    // 2.675 is stored as 2.67499999999999982236431605997495353221893310546875: 2.67, as Python's round(2.675, 2)
    assertEquals(2.67, VqaAccuracy.round2(2.675));
    assertEquals(0.38, VqaAccuracy.round2(0.375));   // exact tie, 7 is odd: up
    assertEquals(66.67, VqaAccuracy.round2(100 * 2.0 / 3));
  }

  @Test
  void resultsMustCoverExactlyTheQuestions() {
    Map<String, VqaAccuracy.Question> gt = Map.of("1", new VqaAccuracy.Question(List.of("yes"), "yes/no", "is"));
    assertEquals("no result for question 1",
        assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score(gt, Map.of())).getMessage());
    assertEquals("result for question 2 which has no ground truth", assertThrows(IllegalArgumentException.class,
        () -> VqaAccuracy.score(gt, Map.of("1", "yes", "2", "no"))).getMessage());
    assertThrows(IllegalArgumentException.class, () -> new VqaAccuracy.Question(List.of(), "other", "what"));
  }
}
