package dev.mplug.eval.caption;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CIDEr-D (Vedantam et al., 2015) exactly as coco-caption's {@code cider_scorer.py} (which is CIDEr-D, reported there
 * as "CIDEr") and the SCST code's {@code ciderD_scorer.py} in its "corpus" document-frequency mode compute it.
 *
 * <p>A caption becomes, for each n = 1..4, a vector of tf-idf weights {@code g = tf x (log(R) - log(max(1, df)))},
 * where R is the number of reference sets (images) and df the number of images whose references contain the n-gram.
 * For a candidate c and one reference r:
 *
 * <pre>
 *   sim_n(c, r) = sum over the n-grams of c of min(g_c, g_r) x g_r / (|g_c| |g_r|) x exp(-(l_c - l_r)^2 / (2 sigma^2))
 * </pre>
 *
 * with sigma = 6 (the division only when both norms are non-zero). The image's score is 10 x the mean over n of the
 * mean over its references of sim_n; a corpus score is the mean over images.
 *
 * <p>The length l of a caption in the Gaussian penalty is, as in the reference, its number of bigrams (the reference
 * adds up term frequencies where its n-gram index is 1): the word count minus one, which differs from a word count
 * difference only for an empty caption, whose score is 0 anyway.
 *
 * <p>Captions must already be tokenised ({@link PtbTokenizer}); words are split at whitespace as Python's
 * {@code str.split()} does. SCST uses {@link #score} as its reward, so the document frequencies come from the
 * references once ({@link #fromReferences}) and scoring is cheap.
 */
public final class CiderD {
  /** Longest n-gram. */
  static final int N = 4;
  /** Standard deviation of the Gaussian length penalty. */
  static final double SIGMA = 6.0;

  /** Number of reference sets (images) whose references contain each n-gram. */
  private final Map<String, Integer> documentFrequency;
  /** log(number of reference sets): the reference's {@code ref_len}. */
  private final double logReferenceSets;

  private CiderD(Map<String, Integer> documentFrequency, double logReferenceSets) {
    this.documentFrequency = documentFrequency;
    this.logReferenceSets = logReferenceSets;
  }

  /**
   * The document frequencies of the evaluated references: each image's reference set (tokenised captions) is one
   * document.
   */
  public static CiderD fromReferences(Collection<List<String>> referenceSets) {
    if (referenceSets.isEmpty()) throw new IllegalArgumentException("CIDEr-D needs at least one reference set");
    Map<String, Integer> df = new HashMap<>();
    for (List<String> references : referenceSets) {
      Set<String> seen = new HashSet<>();
      for (String reference : references) {
        for (Map<String, Integer> kgrams : Ngrams.counts(Ngrams.words(reference), N)) seen.addAll(kgrams.keySet());
      }
      for (String ngram : seen) df.merge(ngram, 1, Integer::sum);
    }
    return new CiderD(df, Math.log(referenceSets.size()));
  }

  /** CIDEr-D (x10) of one image's tokenised candidate against its tokenised references. */
  public double score(String candidate, List<String> references) {
    if (references.isEmpty()) throw new IllegalArgumentException("CIDEr-D of '" + candidate + "': no references");
    Vector c = vector(candidate);
    double[] sum = new double[N];
    for (String reference : references) {
      Vector r = vector(reference);
      double penalty = Math.exp(-square(c.length - r.length) / (2 * SIGMA * SIGMA));
      for (int n = 0; n < N; n++) {
        double val = 0;
        for (Map.Entry<String, Double> e : c.weights.get(n).entrySet()) {
          double ref = r.weights.get(n).getOrDefault(e.getKey(), 0.0);
          val += Math.min(e.getValue(), ref) * ref;   // clipped: a repeated n-gram earns no more than the reference
        }
        if (c.norms[n] != 0 && r.norms[n] != 0) val /= c.norms[n] * r.norms[n];
        sum[n] += val * penalty;
      }
    }
    double mean = 0;
    for (double s : sum) mean += s;
    return mean / N / references.size() * 10.0;
  }

  /** The corpus CIDEr-D: the mean of {@link #score} over images ({@code candidates.get(i)} for image i). */
  public double corpusScore(List<String> candidates, List<List<String>> references) {
    if (candidates.size() != references.size() || candidates.isEmpty()) {
      throw new IllegalArgumentException("CIDEr-D: " + candidates.size() + " candidates for " + references.size()
          + " reference sets");
    }
    double total = 0;
    for (int i = 0; i < candidates.size(); i++) total += score(candidates.get(i), references.get(i));
    return total / candidates.size();
  }

  /** tf-idf weights per n-gram length, their Euclidean norms, and the bigram count used as length. */
  private record Vector(List<Map<String, Double>> weights, double[] norms, int length) {}

  private Vector vector(String caption) {
    List<Map<String, Double>> weights = new ArrayList<>(N);
    double[] norms = new double[N];
    int length = 0;
    List<Map<String, Integer>> counts = Ngrams.counts(Ngrams.words(caption), N);
    for (int n = 0; n < N; n++) {
      Map<String, Double> w = new LinkedHashMap<>();   // the reference sums in first-occurrence order
      for (Map.Entry<String, Integer> e : counts.get(n).entrySet()) {
        double idf = logReferenceSets - Math.log(Math.max(1.0, documentFrequency.getOrDefault(e.getKey(), 0)));
        double g = e.getValue() * idf;
        w.put(e.getKey(), g);
        norms[n] += g * g;
        if (n == 1) length += e.getValue();   // the reference's quirk: bigrams, see the class comment
      }
      norms[n] = Math.sqrt(norms[n]);
      weights.add(w);
    }
    return new Vector(weights, norms, length);
  }

  private static double square(double x) {
    return x * x;
  }
}
