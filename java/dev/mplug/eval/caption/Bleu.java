package dev.mplug.eval.caption;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BLEU-1..4 exactly as coco-caption's {@code bleu_scorer.py} computes it with its "closest" option.
 *
 * <p>Per image: the clipped n-gram matches {@code correct_n} (each candidate n-gram counts at most as often as in the
 * reference that has it most often), the candidate's n-gram count {@code guess_n = max(0, len - n + 1)}, and the
 * effective reference length, the one closest to the candidate's length (on a tie the shorter, as the reference's
 * {@code min((abs(l - len), l))} picks). Then
 *
 * <pre>
 *   BLEU_n = (prod over k <= n of (correct_k + 1e-15) / (guess_k + 1e-9))^(1/n)  x  BP,
 *   BP = exp(1 - 1/ratio) when ratio = (len + 1e-15) / (reflen + 1e-9) < 1, else 1,
 * </pre>
 *
 * per image from its own statistics and for the corpus from the statistics summed over images (not a mean of the
 * per-image scores). The fudge terms make an empty candidate score 0 without dividing by zero.
 *
 * <p>Captions must already be tokenised; words are split at whitespace as Python's {@code str.split()} does.
 */
public final class Bleu {
  /** Longest n-gram. */
  static final int N = 4;
  private static final double TINY = 1e-15;
  private static final double SMALL = 1e-9;

  private Bleu() {}

  /**
   * BLEU-1..4 of the corpus and of each image.
   *
   * @param corpus Bleu_1..Bleu_4 from the summed statistics
   * @param perImage for image i (in the order given), its Bleu_1..Bleu_4
   */
  public record Result(List<Double> corpus, List<List<Double>> perImage) {}

  /** The counts BLEU needs from one image: lengths, and clipped matches and n-gram totals per n. */
  record Statistics(int candidateLength, int referenceLength, long[] correct, long[] guess) {}

  /**
   * @param candidates tokenised candidate of each image
   * @param references tokenised references of each image (at least one each), in the same order
   */
  public static Result score(List<String> candidates, List<List<String>> references) {
    if (candidates.size() != references.size() || candidates.isEmpty()) {
      throw new IllegalArgumentException("BLEU: " + candidates.size() + " candidates for " + references.size()
          + " reference sets");
    }
    long candidateLength = 0;
    long referenceLength = 0;
    long[] correct = new long[N];
    long[] guess = new long[N];
    List<List<Double>> perImage = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      Statistics s = statistics(candidates.get(i), references.get(i));
      perImage.add(bleu(s.candidateLength, s.referenceLength, s.correct, s.guess));
      candidateLength += s.candidateLength;
      referenceLength += s.referenceLength;
      for (int k = 0; k < N; k++) {
        correct[k] += s.correct[k];
        guess[k] += s.guess[k];
      }
    }
    return new Result(bleu(candidateLength, referenceLength, correct, guess), perImage);
  }

  /** One image's counts. */
  static Statistics statistics(String candidate, List<String> references) {
    if (references.isEmpty()) throw new IllegalArgumentException("BLEU of '" + candidate + "': no references");
    List<String> words = Ngrams.words(candidate);
    int length = words.size();
    int closest = -1;
    Map<String, Integer> maxReferenceCounts = new HashMap<>();
    for (String reference : references) {
      List<String> refWords = Ngrams.words(reference);
      int l = refWords.size();
      int d = Math.abs(l - length);
      int best = Math.abs(closest - length);
      if (closest < 0 || d < best || (d == best && l < closest)) closest = l;
      for (Map<String, Integer> kgrams : Ngrams.counts(refWords, N)) {
        kgrams.forEach((ngram, count) -> maxReferenceCounts.merge(ngram, count, Math::max));
      }
    }
    long[] correct = new long[N];
    long[] guess = new long[N];
    List<Map<String, Integer>> counts = Ngrams.counts(words, N);
    for (int k = 0; k < N; k++) {
      guess[k] = Math.max(0, length - k);
      for (Map.Entry<String, Integer> e : counts.get(k).entrySet()) {
        correct[k] += Math.min(maxReferenceCounts.getOrDefault(e.getKey(), 0), e.getValue());
      }
    }
    return new Statistics(length, closest, correct, guess);
  }

  /** BLEU-1..4 from counts, with the brevity penalty. */
  private static List<Double> bleu(long candidateLength, long referenceLength, long[] correct, long[] guess) {
    double[] scores = new double[N];
    double product = 1;
    for (int k = 0; k < N; k++) {
      product *= (correct[k] + TINY) / (guess[k] + SMALL);
      scores[k] = Math.pow(product, 1.0 / (k + 1));
    }
    double ratio = (candidateLength + TINY) / (referenceLength + SMALL);
    List<Double> result = new ArrayList<>(N);
    for (double s : scores) result.add(ratio < 1 ? s * Math.exp(1 - 1 / ratio) : s);
    return result;
  }
}
