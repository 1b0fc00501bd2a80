package dev.mplug.task.vqa;

import static dev.mplug.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The VQA head on tiny inputs: hand-computed losses, answer grouping, decoding, ranking, bad input. */
class VqaHeadTest {
  private static VqaHead tinyHead(String seed) {
    TorchRuntime.load();
    Seeds.fresh(seed);
    MPlug m = new MPlug(MPlugConfig.tiny().withParts(Part.vqa()));
    m.eval();
    return new VqaHead(m, 0);
  }

  /** Random question states [2, 6, 32] with the last position of question 1 masked. */
  private static VqaHead.QuestionStates randomStates() {
    Tensor mask = Tensors.longs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, 2, 6);
    return new VqaHead.QuestionStates(torch.randn(2, 6, 32), mask);
  }

  @Test
  void sequenceNllSumsTheRealNextTokenTargets() {
    TorchRuntime.load();
    try (TensorScope _ = TensorScope.open()) {
      // 1 sequence, 3 positions, vocabulary 2; targets ids[1..2]
      Tensor logits = Tensors.floats(new float[] {0, 1, 2, 0, 5, 5}, 1, 3, 2);
      double nll0 = -Math.log(Math.exp(1) / (1 + Math.exp(1)));          // position 0 ([0, 1]) scores id 1
      double nll1 = -Math.log(1 / (1 + Math.exp(2)));                   // position 1 ([2, 0]) scores id 1
      assertEquals(nll0, VqaHead.sequenceNll(logits, Tensors.longs(new long[] {1, 1, 0}, 1, 3), 0).item_double(), 1e-6,
          "the padding target is skipped");
      assertEquals(nll0 + nll1, VqaHead.sequenceNll(logits, Tensors.longs(new long[] {1, 1, 1}, 1, 3), 0)
          .item_double(), 1e-6, "summed, not averaged");
    }
  }

  @Test
  void lossIsTheWeightedNllSumOverTheQuestions() {
    TorchRuntime.load();
    try (TensorScope _ = TensorScope.open()) {
      Tensor nll = Tensors.floats(new float[] {2, 4, 6}, 3);
      Tensor w = Tensors.floats(new float[] {1, 0.5f, 0.5f}, 3);
      assertEquals((2 * 1 + 4 * 0.5 + 6 * 0.5) / 2, VqaHead.loss(nll, w, 2).item_double(), 1e-6);
    }
  }

  @Test
  void eachAnswerReadsItsOwnQuestion() {
    VqaHead head = tinyHead("answer grouping");
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      VqaHead.QuestionStates q = randomStates();
      Tensor answers = Tensors.longs(new long[] {101, 7, 102, 101, 8, 102, 101, 9, 102}, 3, 3);
      Tensor counts = Tensors.longs(new long[] {1, 2}, 2);
      VqaHead.Output out = head.forward(q, answers, null, counts, Tensors.floats(new float[] {1, 0.5f, 0.5f}, 3));
      for (int a = 0; a < 3; a++) {
        int question = a == 0 ? 0 : 1;
        Tensor alone = head.model().decoder().forward(answers.narrow(0, a, 1), null,
            q.states().narrow(0, question, 1), q.mask().narrow(0, question, 1));
        assertClose(alone.select(0, 0), out.logits().select(0, a), 1e-5, "answer " + a + " reads question " + question);
      }
      float[] nll = Tensors.toFloats(out.answerNll());
      assertEquals((nll[0] + 0.5 * nll[1] + 0.5 * nll[2]) / 2, out.loss().item_double(), 1e-5);
    }
  }

  @Test
  void cachedGenerationEqualsTheUncachedOne() {
    VqaHead head = tinyHead("vqa generation");
    GenerationConfig g = new GenerationConfig(3, 1, 6, 101, 102, 0.6);
    try (TensorScope _ = TensorScope.open()) {
      VqaHead.QuestionStates q = randomStates();
      List<List<Hypothesis>> cached = head.generate(q, g, true);
      List<List<Hypothesis>> plain = head.generate(q, g, false);
      assertEquals(2, cached.size(), "one list per question");
      for (int i = 0; i < 2; i++) {
        assertEquals(3, cached.get(i).size(), "beam-size hypotheses");
        assertEquals(101, cached.get(i).get(0).ids()[0], "starts with [CLS]");
        assertTrue(cached.get(i).get(0).length() <= 7, "at most 6 generated tokens");
        for (int j = 0; j < 3; j++) {
          assertArrayEquals(plain.get(i).get(j).ids(), cached.get(i).get(j).ids(), "question " + i + " beam " + j);
          assertEquals(plain.get(i).get(j).score(), cached.get(i).get(j).score(), 1e-5);
        }
      }
    }
  }

  @Test
  void answersAreTheBestHypothesesWithoutSpecialTokens() {
    // ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, red 5, ##dish 6, blue 7, square 8
    BertTokenizer tok = new BertTokenizer(Vocabulary.of(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red",
        "##dish", "blue", "square")));
    List<List<Hypothesis>> beams = List.of(
        List.of(new Hypothesis(new long[] {2, 5, 6, 3}, -0.5f), new Hypothesis(new long[] {2, 7, 3}, -0.9f)),
        List.of(new Hypothesis(new long[] {2, 7, 8}, -1f)),   // cut at the maximum length: no [SEP]
        List.of(new Hypothesis(new long[] {2, 9, 5, 6, 12, 3}, -2f)),   // ids past the vocabulary of 9 tokens
        List.of());
    assertEquals(List.of("reddish", "blue square", "[UNK] reddish [UNK]", ""), VqaHead.answers(beams, tok));
  }

  /**
   * The official rank_answer: first-token probabilities after [CLS] pick the k candidates, then log p(first) minus the
   * candidate's summed NLL orders them; each expected score computed here from an unpadded decoder run per candidate.
   */
  @Test
  void rankingPicksTheKLikeliestFirstTokensAndOrdersThemByTheFullScore() {
    VqaHead head = tinyHead("answer ranking");
    // [CLS] a [SEP] [SEP], padded to the longest (0)
    long[][] candidates = {{101, 11, 102, 102}, {101, 12, 13, 102, 102}, {101, 14, 102, 102}, {101, 15, 16, 102, 102}};
    long[] padded = new long[4 * 5];
    long[] mask = new long[4 * 5];
    for (int c = 0; c < 4; c++) {
      for (int t = 0; t < candidates[c].length; t++) {
        padded[c * 5 + t] = candidates[c][t];
        mask[c * 5 + t] = 1;
      }
    }
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      VqaHead.QuestionStates q = randomStates();
      VqaHead.Ranking ranking = head.rank(q, Tensors.longs(padded, 4, 5), Tensors.longs(mask, 4, 5), 3);
      for (int i = 0; i < 2; i++) {
        Tensor states = q.states().narrow(0, i, 1);
        Tensor statesMask = q.mask().narrow(0, i, 1);
        float[] firstProbs = Tensors.toFloats(torch.softmax(head.model().decoder().forward(
            Tensors.longs(new long[] {101}, 1, 1), null, states, statesMask).select(1, 0), 1));
        List<Integer> byFirst = new ArrayList<>(List.of(0, 1, 2, 3));
        byFirst.sort(Comparator.comparingDouble((Integer c) -> -firstProbs[(int) candidates[c][1]]));
        List<Integer> kept = byFirst.subList(0, 3);
        double[] score = new double[4];
        for (int c : kept) {
          Tensor ids = Tensors.longs(candidates[c], 1, candidates[c].length);
          double nll = VqaHead.sequenceNll(head.model().decoder().forward(ids, null, states, statesMask), ids, 0)
              .item_double();
          score[c] = Math.log(firstProbs[(int) candidates[c][1]]) - nll;
        }
        List<Integer> expected = new ArrayList<>(kept);
        expected.sort(Comparator.comparingDouble((Integer c) -> -score[c]));
        assertEquals(3, ranking.candidates()[i].length, "k candidates");
        for (int j = 0; j < 3; j++) {
          assertEquals(expected.get(j), ranking.candidates()[i][j], "question " + i + " rank " + j);
          assertEquals(score[expected.get(j)], ranking.scores()[i][j], 1e-4, "question " + i + " rank " + j);
        }
        assertEquals(expected.get(0), ranking.best(i));
      }
      VqaHead.Ranking all = head.rank(q, Tensors.longs(padded, 4, 5), Tensors.longs(mask, 4, 5), 128);
      assertEquals(4, all.candidates()[0].length, "k beyond the list ranks the whole list");
    }
  }

  @Test
  void badInputsSayWhatIsWrong() {
    VqaHead head = tinyHead("vqa bad input");
    try (TensorScope _ = TensorScope.open()) {
      VqaHead.QuestionStates q = randomStates();
      Tensor answers = Tensors.longs(new long[] {101, 7, 102, 101, 8, 102}, 2, 3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> head.forward(q, answers, null,
          Tensors.longs(new long[] {1, 2}, 2), Tensors.floats(new float[] {1, 1}, 2)));
      assertEquals("answer_counts sums to 3 but answer_ids has 2 rows", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> head.forward(q, answers, null,
          Tensors.longs(new long[] {2}, 1), Tensors.floats(new float[] {1, 1}, 2)));
      assertEquals("answer_counts must have one entry per question (2), got shape [1]", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> head.forward(q, answers, null,
          Tensors.longs(new long[] {1, 1}, 2), Tensors.floats(new float[] {1}, 1)));
      assertEquals("answer_weights has 1 entries but answer_ids has 2 rows", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> head.rank(q, answers, answers, 0));
      assertEquals("answer_list_k must be >= 1, got 0", e.getMessage());
    }
  }
}
