package dev.mplug.eval.caption;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The COCO caption evaluation (coco-caption's {@code COCOEvalCap}): both sides tokenised with {@link PtbTokenizer},
 * then BLEU-1..4 ({@link Bleu}), ROUGE-L ({@link RougeL}) and CIDEr ({@link CiderD}) per image and for the corpus.
 *
 * <p>"CIDEr" here is CIDEr-D, which is what coco-caption computes under that name and what the SCST papers (and
 * mPLUG's reported CIDEr) use: clipped tf-idf vectors, a Gaussian length penalty, document frequencies from the
 * evaluated references. METEOR and SPICE run Java jars (Meteor 1.5; SPICE 1.0 with Stanford CoreNLP) that are not
 * available here; they are listed in {@link #NOT_COMPUTED} instead of given a number.
 */
public final class CaptionMetrics {
  /** The corpus and per-image metric names, in coco-caption's spelling and order. */
  public static final List<String> METRICS = List.of("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr");
  /** coco-caption metrics this evaluation does not compute, and why. */
  public static final Map<String, String> NOT_COMPUTED = orderedOf(
      "METEOR", "needs meteor-1.5.jar (Meteor 1.5 with its paraphrase tables), not available",
      "SPICE", "needs spice-1.0.jar with Stanford CoreNLP 3.6.0, not available");

  private CaptionMetrics() {}

  /**
   * @param corpus each metric of {@link #METRICS} over the whole set
   * @param perImage for each image id (in the references' order), each metric of {@link #METRICS}
   */
  public record Report(Map<String, Double> corpus, Map<String, Map<String, Double>> perImage) {}

  /**
   * Scores raw captions.
   *
   * @param references the reference captions of each image id (at least one each)
   * @param results the one generated caption of each image id; exactly the references' ids
   */
  public static Report score(Map<String, List<String>> references, Map<String, String> results) {
    if (references.isEmpty()) throw new IllegalArgumentException("no reference images to score");
    for (String id : results.keySet()) {
      if (!references.containsKey(id)) throw new IllegalArgumentException("result image_id " + id + " is unknown: "
          + "not in the references");
    }
    List<String> ids = new ArrayList<>(references.keySet());
    List<String> candidates = new ArrayList<>();
    List<List<String>> tokenisedReferences = new ArrayList<>();
    for (String id : ids) {
      String result = results.get(id);
      if (result == null) throw new IllegalArgumentException("reference image " + id + " has no result (missing)");
      List<String> refs = references.get(id);
      if (refs.isEmpty()) throw new IllegalArgumentException("reference image " + id + " has no captions");
      candidates.add(PtbTokenizer.tokenize(result));
      tokenisedReferences.add(refs.stream().map(PtbTokenizer::tokenize).toList());
    }

    Bleu.Result bleu = Bleu.score(candidates, tokenisedReferences);
    CiderD cider = CiderD.fromReferences(tokenisedReferences);
    Map<String, Map<String, Double>> perImage = new LinkedHashMap<>();
    double rougeSum = 0;
    double ciderSum = 0;
    for (int i = 0; i < ids.size(); i++) {
      double rouge = RougeL.score(candidates.get(i), tokenisedReferences.get(i));
      double cide = cider.score(candidates.get(i), tokenisedReferences.get(i));
      rougeSum += rouge;
      ciderSum += cide;
      perImage.put(ids.get(i), metrics(bleu.perImage().get(i), rouge, cide));
    }
    return new Report(metrics(bleu.corpus(), rougeSum / ids.size(), ciderSum / ids.size()), perImage);
  }

  private static Map<String, Double> metrics(List<Double> bleu, double rouge, double cider) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int n = 0; n < Bleu.N; n++) m.put(METRICS.get(n), bleu.get(n));
    m.put("ROUGE_L", rouge);
    m.put("CIDEr", cider);
    return m;
  }

  private static Map<String, String> orderedOf(String... keysAndValues) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) m.put(keysAndValues[i], keysAndValues[i + 1]);
    return Collections.unmodifiableMap(m);
  }
}
