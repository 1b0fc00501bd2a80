package dev.mplug.task.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.eval.RetrievalRecall;
import dev.mplug.model.MPlug;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The chunked ranking: hand-checked ranks, and on a tiny random model the same ranks and recalls as the official
 * whole-matrix computation (every score matrix filled with -100, the top-k by ITC re-scored by ITM), whatever the
 * chunk and sub-batch sizes.
 */
class RetrievalRankingTest {
  @Test
  void ranksCountTiesAgainstTheGoldAndNonCandidatesScoreMinus100() {
    int[] cand = {4, 2, 7};
    float[] score = {1.5f, 3.0f, 1.5f};
    // gold 4 (score 1.5): 2 (3.0) and 7 (1.5, a tie) come first
    assertEquals(2, RetrievalRanking.rerankedRank(cand, score, 10, new int[] {4}));
    assertEquals(0, RetrievalRanking.rerankedRank(cand, score, 10, new int[] {2}));
    // several golds: the best counts
    assertEquals(0, RetrievalRanking.rerankedRank(cand, score, 10, new int[] {7, 2}));
    // gold outside the candidates: behind the 3 candidates and tied with the 6 other -100s
    assertEquals(9, RetrievalRanking.rerankedRank(cand, score, 10, new int[] {0}));
    float[] sims = {0.1f, 0.9f, 0.5f, 0.5f};
    assertEquals(2, RetrievalRanking.itcRank(sims, 0, 4, new int[] {2}));
    assertEquals(0, RetrievalRanking.itcRank(sims, 0, 4, new int[] {0, 1}));
    // a row at an offset: [0.3, 0.1, 0.2], gold 2 behind 0.3
    assertEquals(1, RetrievalRanking.itcRank(new float[] {9, 9, 0.3f, 0.1f, 0.2f}, 2, 3, new int[] {2}));
    assertArrayEquals(new int[] {2, 4, 7}, RetrievalRanking.best(cand, score));
  }

  @Test
  void chunkedRankingEqualsTheOfficialWholeMatrices() {
    Seeds.fresh("chunkedRankingEqualsTheOfficialWholeMatrices");
    try (TensorScope scope = TensorScope.open(); NoGradGuard guard = new NoGradGuard()) {
      MPlug model = RetrievalHeadTest.tinyModel();
      model.eval();
      RetrievalHead head = new RetrievalHead(model);
      int n = 7;
      int[] captionsPer = {2, 1, 3, 2, 1, 2, 1};
      List<int[]> textsOfImage = new ArrayList<>();
      List<Integer> owner = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int[] mine = new int[captionsPer[i]];
        for (int c = 0; c < mine.length; c++) {
          mine[c] = owner.size();
          owner.add(i);
        }
        textsOfImage.add(mine);
      }
      int m = owner.size();   // 12
      int[] imageOfText = owner.stream().mapToInt(Integer::intValue).toArray();
      RetrievalHead.Images images = head.images(torch.randn(n, 3, 32, 32));
      Tensor ids = torch.randint(5, 120, new long[] {m, 6}).to(torch.ScalarType.Long);
      ids.select(1, 0).fill_(Tensors.scalar(101));
      Tensor mask = torch.ones(m, 6).to(torch.ScalarType.Long);
      mask.narrow(0, 0, 4).narrow(1, 4, 2).fill_(Tensors.scalar(0));   // some padded texts
      RetrievalHead.Texts texts = head.texts(ids, mask);
      RetrievalRanking.Gold gold = new RetrievalRanking.Gold(textsOfImage, imageOfText);

      int k = 4;
      float[][] i2t = official(head, images, texts, k, true);
      float[][] t2i = official(head, images, texts, k, false);
      RetrievalRecall.Result expected = RetrievalRecall.compute(i2t, t2i, textsOfImage, imageOfText);
      float[][] itcI2t = itc(images.features(), texts.features());
      float[][] itcT2i = itc(texts.features(), images.features());
      RetrievalRecall.Result expectedItc = RetrievalRecall.compute(itcI2t, itcT2i, textsOfImage, imageOfText);

      for (int[] sizes : new int[][] {{1, 1}, {3, 5}, {100, 1000}}) {
        RetrievalRanking.Result r = RetrievalRanking.rank(head, images, texts, gold,
            new RetrievalRanking.Options(k, sizes[0], sizes[1]));
        assertEquals(expected, r.recall(), "chunk " + sizes[0] + ", itm batch " + sizes[1]);
        assertEquals(expectedItc, r.itcRecall());
        for (int i = 0; i < n; i++) {
          assertEquals(k, r.images().top()[i].length);
          assertEquals(i2t[i][r.images().top()[i][0]], max(i2t[i]), 1e-5f, "image " + i + " lists its best text first");
        }
        for (int t = 0; t < m; t++) assertEquals(t2i[t][r.texts().top()[t][0]], max(t2i[t]), 1e-5f);
      }
      // k beyond the candidates: every pair is re-ranked
      RetrievalRanking.Result all = RetrievalRanking.rank(head, images, texts, gold,
          new RetrievalRanking.Options(50, 2, 7));
      assertEquals(RetrievalRecall.compute(official(head, images, texts, 50, true),
          official(head, images, texts, 50, false), textsOfImage, imageOfText), all.recall());
      assertEquals(n, all.texts().top()[0].length);
      assertEquals(10, all.images().top()[0].length);
    }
  }

  @Test
  void rejectsBadOptionsAndGoldOfAnotherSize() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new RetrievalRanking.Options(0, 1, 1));
    assertEquals("retrieval.k must be >= 1, got 0", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new RetrievalRanking.Options(1, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new RetrievalRanking.Options(1, 1, 0));
    try (TensorScope scope = TensorScope.open()) {
      RetrievalHead head = new RetrievalHead(RetrievalHeadTest.tinyModel());
      RetrievalHead.Images images = new RetrievalHead.Images(torch.zeros(2, 3, 4), torch.zeros(2, 4));
      RetrievalHead.Texts texts = new RetrievalHead.Texts(torch.zeros(3, 2, 4), torch.ones(3, 2), torch.zeros(3, 4));
      RetrievalRanking.Gold gold = new RetrievalRanking.Gold(List.of(new int[] {0}, new int[] {1}), new int[] {0, 1});
      assertThrows(IllegalArgumentException.class,
          () -> RetrievalRanking.rank(head, images, texts, gold, new RetrievalRanking.Options(1, 1, 1)));
    }
  }

  @Test
  void theTextVideoScoreAddsTheSimilarityToTheMatchLogit() {
    Seeds.fresh("theTextVideoScoreAddsTheSimilarityToTheMatchLogit");
    try (TensorScope scope = TensorScope.open(); NoGradGuard guard = new NoGradGuard()) {
      MPlug model = RetrievalHeadTest.tinyModel();
      model.eval();
      RetrievalHead head = new RetrievalHead(model);
      int[] captionsPer = {1, 2, 1, 1, 2, 1};
      RetrievalRanking.Gold gold = RetrievalRanking.Gold.consecutive(captionsPer);
      assertArrayEquals(new int[] {1, 2}, gold.textsOfImage().get(1));
      assertArrayEquals(new int[] {0, 1, 1, 2, 3, 4, 4, 5}, gold.imageOfText());
      RetrievalHead.Images images = head.images(torch.randn(6, 3, 32, 32));
      Tensor ids = torch.randint(5, 120, new long[] {8, 5}).to(torch.ScalarType.Long);
      ids.select(1, 0).fill_(Tensors.scalar(101));
      RetrievalHead.Texts texts = head.texts(ids, torch.ones(8, 5).to(torch.ScalarType.Long));
      int k = 3;
      RetrievalRecall.Result expected = RetrievalRecall.compute(official(head, images, texts, k, true, true),
          official(head, images, texts, k, false, true), gold.textsOfImage(), gold.imageOfText());
      RetrievalRanking.Options options = new RetrievalRanking.Options(k, 4, 5).withSimilarity();
      assertTrue(options.addSimilarity());
      assertEquals(expected, RetrievalRanking.rank(head, images, texts, gold, options).recall());
    }
  }

  /** The official score matrix: -100 everywhere, the top-k by ITC of each query re-scored with ITM (class 1). */
  private static float[][] official(RetrievalHead head, RetrievalHead.Images images, RetrievalHead.Texts texts,
      int k, boolean imageQueries) {
    return official(head, images, texts, k, imageQueries, false);
  }

  /** ... and with {@code addSimilarity} the text-video score, ITM logit + ITC similarity. */
  private static float[][] official(RetrievalHead head, RetrievalHead.Images images, RetrievalHead.Texts texts,
      int k, boolean imageQueries, boolean addSimilarity) {
    float[][] itc = imageQueries ? itc(images.features(), texts.features()) : itc(texts.features(), images.features());
    float[][] out = new float[itc.length][];
    for (int q = 0; q < itc.length; q++) {
      float[] row = itc[q];
      out[q] = new float[row.length];
      Arrays.fill(out[q], -100f);
      Integer[] order = new Integer[row.length];
      for (int j = 0; j < row.length; j++) order[j] = j;
      Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a]));
      for (int j = 0; j < Math.min(k, row.length); j++) {
        int c = order[j];
        int image = imageQueries ? q : c;
        int text = imageQueries ? c : q;
        Tensor ti = Tensors.longs(new long[] {text}, 1);
        out[q][c] = head.matchScores(images.embeds().narrow(0, image, 1), texts.embeds().index_select(0, ti),
            texts.mask().index_select(0, ti)).item_float() + (addSimilarity ? row[c] : 0);
      }
    }
    return out;
  }

  private static float[][] itc(Tensor a, Tensor b) {
    Tensor s = a.matmul(b.t());
    int rows = (int) s.size(0);
    int cols = (int) s.size(1);
    float[] flat = Tensors.toFloats(s);
    float[][] out = new float[rows][];
    for (int i = 0; i < rows; i++) out[i] = Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
    return out;
  }

  private static float max(float[] row) {
    float best = Float.NEGATIVE_INFINITY;
    for (float v : row) best = Math.max(best, v);
    return best;
  }
}
