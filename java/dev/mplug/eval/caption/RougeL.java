package dev.mplug.eval.caption;

import java.util.List;

/**
 * ROUGE-L (Lin, 2004) as coco-caption's {@code rouge.py} computes it: for one candidate and its references, the
 * longest common subsequence (LCS) of words with each reference gives a precision {@code lcs / |candidate|} and a
 * recall {@code lcs / |reference|}; with the best precision P and the best recall R over the references (each
 * maximised on its own),
 *
 * <pre>
 *   ROUGE-L = (1 + beta^2) P R / (R + beta^2 P),   beta = 1.2,   and 0 when P or R is 0.
 * </pre>
 *
 * The corpus score is the mean over images. Words are split at single spaces as the reference's {@code split(" ")}
 * does, so an empty caption is one empty word.
 */
public final class RougeL {
  /** Weight of recall against precision. */
  static final double BETA = 1.2;

  private RougeL() {}

  /** ROUGE-L of one image's tokenised candidate against its tokenised references. */
  public static double score(String candidate, List<String> references) {
    if (references.isEmpty()) throw new IllegalArgumentException("ROUGE-L of '" + candidate + "': no references");
    String[] c = candidate.split(" ", -1);
    double precision = 0;
    double recall = 0;
    for (String reference : references) {
      String[] r = reference.split(" ", -1);
      int lcs = lcs(c, r);
      precision = Math.max(precision, lcs / (double) c.length);
      recall = Math.max(recall, lcs / (double) r.length);
    }
    if (precision == 0 || recall == 0) return 0;
    double beta2 = BETA * BETA;
    return (1 + beta2) * precision * recall / (recall + beta2 * precision);
  }

  /** Length of the longest common subsequence of two word sequences (dynamic programming, O(|a| |b|)). */
  static int lcs(String[] a, String[] b) {
    int[] previous = new int[b.length + 1];
    int[] current = new int[b.length + 1];
    for (String word : a) {
      for (int j = 1; j <= b.length; j++) {
        current[j] = word.equals(b[j - 1]) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length];
  }
}
