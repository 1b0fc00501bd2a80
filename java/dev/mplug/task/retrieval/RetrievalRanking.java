package dev.mplug.task.retrieval;

import dev.mplug.eval.RetrievalRecall;
import dev.mplug.model.MPlug;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;

/**
 * The official retrieval inference, computed in chunks of queries so that no whole similarity matrix is ever held
 * (5,000 COCO test images x 25,000 captions would be 500 MB of floats, and the official score matrices two more):
 *
 * <pre>
 * for each chunk of queries (images, then texts):
 *   sims    = query features [chunk, E] . candidate features [C, E]^T          [chunk, C]   (ITC, cosine)
 *   top     = the k most similar candidates of each query                       [chunk, k]
 *   scores  = itm_head(fusion(pair))[:, 1] over the chunk x k pairs, in sub-batches of itm_batch pairs
 *             (+ sims of the pair with {@link Options#addSimilarity}: text-video retrieval)
 *   keep    per query: the rank of its gold after re-ranking and by ITC alone, and its best 10 candidates
 * </pre>
 * A candidate outside the top k scores -100, as in the official score matrices, so a gold there ranks behind every
 * re-ranked candidate and ties with the rest; ranks count ties against the gold, as {@link RetrievalRecall} does, so
 * the recalls equal those of the official whole-matrix computation. The ITC ranks are exact (counted over the whole
 * similarity row while the chunk is held), whatever k is.
 */
public final class RetrievalRanking {
  /** Candidates listed per query in {@link Direction#top()}: enough for R@10. */
  public static final int TOP = 10;

  /**
   * @param k candidates re-ranked by ITM per query (official COCO: 256)
   * @param chunk queries whose similarity rows are held at once
   * @param itmBatch image-text pairs per fusion forward
   * @param addSimilarity re-rank by the ITM logit plus the pair's ITC cosine similarity (the official text-video
   *     retrieval, {@code retrieval_vid_mplug.py}) instead of the ITM logit alone
   */
  public record Options(int k, int chunk, int itmBatch, boolean addSimilarity) {
    public Options {
      if (k < 1) throw new IllegalArgumentException("retrieval.k must be >= 1, got " + k);
      if (chunk < 1) throw new IllegalArgumentException("retrieval.chunk must be >= 1, got " + chunk);
      if (itmBatch < 1) throw new IllegalArgumentException("retrieval.itm_batch must be >= 1, got " + itmBatch);
    }

    /** The image-text ranking: candidates re-ranked by the ITM logit alone. */
    public Options(int k, int chunk, int itmBatch) {
      this(k, chunk, itmBatch, false);
    }

    /** The same settings, re-ranking by ITM logit + ITC cosine similarity (the official text-video score). */
    public Options withSimilarity() {
      return new Options(k, chunk, itmBatch, true);
    }
  }

  /** Which texts describe which image: the gold texts of each image, the image of each text. */
  public record Gold(List<int[]> textsOfImage, int[] imageOfText) {
    public Gold {
      textsOfImage = List.copyOf(textsOfImage);
      imageOfText = imageOfText.clone();
    }

    /** The texts numbered consecutively in image order, image i having {@code textCounts[i]} of them. */
    public static Gold consecutive(int[] textCounts) {
      List<int[]> texts = new ArrayList<>(textCounts.length);
      int[] imageOfText = new int[Arrays.stream(textCounts).sum()];
      int next = 0;
      for (int i = 0; i < textCounts.length; i++) {
        int[] mine = new int[textCounts[i]];
        for (int c = 0; c < mine.length; c++) {
          mine[c] = next;
          imageOfText[next++] = i;
        }
        texts.add(mine);
      }
      return new Gold(texts, imageOfText);
    }
  }

  /**
   * One direction's outcome, per query: the 0-based rank of its best gold after the ITM re-ranking and by the ITC
   * similarity alone, and its best {@link #TOP} candidates after re-ranking (fewer when k is smaller), best first.
   */
  public record Direction(int[] ranks, int[] itcRanks, int[][] top) {}

  /** Both directions (image queries rank texts, text queries rank images) and where the time went. */
  public record Result(Direction images, Direction texts, double itcSeconds, double itmSeconds) {
    /** Recall@1/5/10 both ways, ITC top-k re-ranked by ITM: the official figures. */
    public RetrievalRecall.Result recall() {
      return RetrievalRecall.ofRanks(images.ranks(), texts.ranks());
    }

    /** Recall@1/5/10 by the ITC similarities alone. */
    public RetrievalRecall.Result itcRecall() {
      return RetrievalRecall.ofRanks(images.itcRanks(), texts.itcRanks());
    }
  }

  /** ITM "match" scores of pairs (query index, candidate index), one per pair. */
  @FunctionalInterface
  private interface PairScorer {
    float[] score(long[] queries, long[] candidates);
  }

  private RetrievalRanking() {}

  /**
   * Encodes images [N, 3, R, R] and texts (ids, mask [M, T]) in one pass each and ranks them (in eval mode, without
   * gradients; the model's mode is restored): for evaluation sets small enough to encode at once.
   */
  public static Result rank(MPlug model, Tensor images, Tensor textIds, Tensor textMask, Gold gold, Options options) {
    boolean wasTraining = model.is_training();
    model.eval();
    try (NoGradGuard guard = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      RetrievalHead head = new RetrievalHead(model);
      return rank(head, head.images(images), head.texts(textIds, textMask), gold, options);
    } finally {
      model.train(wasTraining);
    }
  }

  /** Ranks every image against every text and back (call in eval mode, without gradients). */
  public static Result rank(RetrievalHead head, RetrievalHead.Images images, RetrievalHead.Texts texts, Gold gold,
      Options options) {
    int n = images.count();
    int m = texts.count();
    if (gold.textsOfImage().size() != n || gold.imageOfText().length != m) {
      throw new IllegalArgumentException("gold covers " + gold.textsOfImage().size() + " images and "
          + gold.imageOfText().length + " texts, the features " + n + " and " + m);
    }
    long[] nanos = new long[2];   // ITC, ITM
    int[][] goldOfImage = gold.textsOfImage().toArray(new int[0][]);
    int[][] goldOfText = Arrays.stream(gold.imageOfText()).mapToObj(i -> new int[] {i}).toArray(int[][]::new);
    Direction i2t = direction(images.features(), texts.features(), goldOfImage, options, nanos,
        (q, c) -> head.pairScores(images.embeds(), q, texts, c));
    Direction t2i = direction(texts.features(), images.features(), goldOfText, options, nanos,
        (q, c) -> head.pairScores(images.embeds(), c, texts, q));
    return new Result(i2t, t2i, nanos[0] / 1e9, nanos[1] / 1e9);
  }

  private static Direction direction(Tensor queryFeatures, Tensor candidateFeatures, int[][] golds, Options o,
      long[] nanos, PairScorer scorer) {
    int queries = (int) queryFeatures.size(0);
    int candidates = (int) candidateFeatures.size(0);
    int k = Math.min(o.k(), candidates);
    int[] ranks = new int[queries];
    int[] itcRanks = new int[queries];
    int[][] top = new int[queries][];
    for (int start = 0; start < queries; start += o.chunk()) {
      int c = Math.min(o.chunk(), queries - start);
      long t0 = System.nanoTime();
      float[] sims;
      long[] chosen;
      try (TensorScope scope = TensorScope.open()) {
        Tensor s = queryFeatures.narrow(0, start, c).matmul(candidateFeatures.t());   // [c, C]
        T_TensorTensor_T best = s.topk(k, 1, true, true);                             // [c, k] each
        sims = Tensors.toFloats(s);
        chosen = Tensors.toLongs(best.get1());
      }
      for (int q = 0; q < c; q++) itcRanks[start + q] = itcRank(sims, q * candidates, candidates, golds[start + q]);
      long t1 = System.nanoTime();
      float[] itm = new float[c * k];
      for (int p0 = 0; p0 < c * k; p0 += o.itmBatch()) {
        int p = Math.min(o.itmBatch(), c * k - p0);
        long[] q = new long[p];
        for (int j = 0; j < p; j++) q[j] = start + (p0 + j) / k;
        System.arraycopy(scorer.score(q, Arrays.copyOfRange(chosen, p0, p0 + p)), 0, itm, p0, p);
      }
      for (int q = 0; q < c; q++) {
        int[] cand = new int[k];
        for (int j = 0; j < k; j++) cand[j] = (int) chosen[q * k + j];
        float[] score = Arrays.copyOfRange(itm, q * k, (q + 1) * k);
        if (o.addSimilarity()) for (int j = 0; j < k; j++) score[j] += sims[q * candidates + cand[j]];
        ranks[start + q] = rerankedRank(cand, score, candidates, golds[start + q]);
        top[start + q] = best(cand, score);
      }
      nanos[0] += t1 - t0;
      nanos[1] += System.nanoTime() - t1;
    }
    return new Direction(ranks, itcRanks, top);
  }

  /** The best rank among {@code golds} in one similarity row: others scoring at least as high come first. */
  static int itcRank(float[] sims, int offset, int count, int[] golds) {
    int best = Integer.MAX_VALUE;
    for (int g : golds) {
      float target = sims[offset + g];
      int r = 0;
      for (int j = 0; j < count; j++) if (j != g && sims[offset + j] >= target) r++;
      best = Math.min(best, r);
    }
    return best;
  }

  /**
   * The best rank among {@code golds} in the official score row: {@code score} for the k candidates, -100 for the
   * {@code count - k} others.
   */
  static int rerankedRank(int[] cand, float[] score, int count, int[] golds) {
    int best = Integer.MAX_VALUE;
    for (int g : golds) {
      int at = -1;
      for (int j = 0; j < cand.length; j++) if (cand[j] == g) at = j;
      float target = at >= 0 ? score[at] : -100f;
      int r = 0;
      for (int j = 0; j < cand.length; j++) if (j != at && score[j] >= target) r++;
      int outside = count - cand.length - (at >= 0 ? 0 : 1);   // the other -100s
      if (target <= -100f) r += outside;
      best = Math.min(best, r);
    }
    return best;
  }

  /** The first {@link #TOP} candidates by score, best first (ties keep the ITC order). */
  static int[] best(int[] cand, float[] score) {
    Integer[] order = new Integer[cand.length];
    for (int j = 0; j < order.length; j++) order[j] = j;
    Arrays.sort(order, (a, b) -> Float.compare(score[b], score[a]));
    int[] out = new int[Math.min(TOP, cand.length)];
    for (int j = 0; j < out.length; j++) out[j] = cand[order[j]];
    return out;
  }
}
