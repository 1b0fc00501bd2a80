package dev.mplug.eval;

import java.util.List;

/**
 * Recall@K of image-text retrieval in both directions, as the official evaluation computes it: image-to-text counts a
 * hit when ANY of the image's gold texts ranks within the top K; text-to-image when the text's image does.
 */
public final class RetrievalRecall {
  /** Recalls in percent. */
  public record Result(double textR1, double textR5, double textR10, double imageR1, double imageR5, double imageR10) {
    public double mean() {
      return (textR1 + textR5 + textR10 + imageR1 + imageR5 + imageR10) / 6;
    }
  }

  private RetrievalRecall() {}

  /**
   * @param i2t scores [images][texts]
   * @param t2i scores [texts][images]
   * @param textsOfImage gold text indices of each image
   * @param imageOfText gold image index of each text
   */
  public static Result compute(float[][] i2t, float[][] t2i, List<int[]> textsOfImage, int[] imageOfText) {
    int[] ranksI = new int[i2t.length];
    for (int i = 0; i < i2t.length; i++) {
      int best = Integer.MAX_VALUE;
      for (int gold : textsOfImage.get(i)) best = Math.min(best, rank(i2t[i], gold));
      ranksI[i] = best;
    }
    int[] ranksT = new int[t2i.length];
    for (int t = 0; t < t2i.length; t++) ranksT[t] = rank(t2i[t], imageOfText[t]);
    return ofRanks(ranksI, ranksT);
  }

  /**
   * The recalls of known 0-based ranks: of each image's best gold text, and of each text's image (what a ranking that
   * never holds a whole score matrix, as the chunked retrieval evaluation, computes itself).
   */
  public static Result ofRanks(int[] imageRanks, int[] textRanks) {
    return new Result(recall(imageRanks, 1), recall(imageRanks, 5), recall(imageRanks, 10), recall(textRanks, 1),
        recall(textRanks, 5), recall(textRanks, 10));
  }

  /** 0-based rank of {@code target} when scores are sorted descending (ties count against the target). */
  static int rank(float[] scores, int target) {
    int r = 0;
    for (int j = 0; j < scores.length; j++) if (j != target && scores[j] >= scores[target]) r++;
    return r;
  }

  static double recall(int[] ranks, int k) {
    int hits = 0;
    for (int r : ranks) if (r < k) hits++;
    return 100.0 * hits / Math.max(1, ranks.length);
  }
}
