package dev.mplug.eval.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The whole evaluation on raw captions: the CiderDTest corpus written with capitals and punctuation, which the PTB
 * tokenisation removes, so the scores are those of the tokenised captions (values also from coco-caption's scorers).
 */
class CaptionMetricsTest {
  static Map<String, List<String>> references() {
    Map<String, List<String>> refs = new LinkedHashMap<>();
    refs.put("1", List.of("A dog.", "A cat!"));
    refs.put("2", List.of("A dog runs."));
    refs.put("3", List.of("The cat"));
    return refs;
  }

  static Map<String, String> results() {
    return Map.of("1", "A dog, dog.", "2", "a DOG runs", "3", "");
  }

  @Test
  void scoresTokenisedCaptions() {
    CaptionMetrics.Report report = CaptionMetrics.score(references(), results());
    assertEquals(CaptionMetrics.METRICS, List.copyOf(report.corpus().keySet()));
    assertEquals(List.of("1", "2", "3"), List.copyOf(report.perImage().keySet()));
    Map<String, Double> first = report.perImage().get("1");
    assertEquals(CaptionMetrics.METRICS, List.copyOf(first.keySet()));
    // image 1, "a dog dog" vs "a dog", "a cat": CIDEr-D from CiderDTest; ROUGE-L: LCS 2 with either reference, P =
    // 2/3, R = 2/2 -> 2.44 (2/3) / (1 + 1.44 (2/3)) = 1.62667 / 1.96 = 0.829932; BLEU_1 = 2/3 (dog clipped)
    assertEquals(1.596330129764668, first.get("CIDEr"), 1e-12);
    assertEquals(2.44 * 2 / 3 / (1 + 1.44 * 2 / 3), first.get("ROUGE_L"), 1e-15);
    assertEquals(0.6666666664444447, first.get("Bleu_1"), 1e-15);
    // image 2 is an exact match, image 3 an empty result
    assertEquals(7.5, report.perImage().get("2").get("CIDEr"), 1e-12);
    assertEquals(1.0, report.perImage().get("2").get("ROUGE_L"), 1e-15);
    assertEquals(Map.of("Bleu_1", 0.0, "Bleu_2", 0.0, "Bleu_3", 0.0, "Bleu_4", 0.0, "ROUGE_L", 0.0, "CIDEr", 0.0),
        report.perImage().get("3"));
    // corpus: CIDEr and ROUGE-L are means over the 3 images; BLEU from summed statistics
    assertEquals(3.0321100432548893, report.corpus().get("CIDEr"), 1e-12);
    assertEquals((2.44 * 2 / 3 / (1 + 1.44 * 2 / 3) + 1) / 3, report.corpus().get("ROUGE_L"), 1e-15);
    assertEquals(0.7054014371737114, report.corpus().get("Bleu_1"), 1e-15);
    assertEquals(0.6692025618396454, report.corpus().get("Bleu_2"), 1e-15);
    assertEquals(0.5744262262709251, report.corpus().get("Bleu_3"), 1e-15);
    assertEquals(0.020013824704323696, report.corpus().get("Bleu_4"), 1e-16);
  }

  @Test
  void everyImageNeedsExactlyOneResult() {
    Map<String, String> unknown = new LinkedHashMap<>(results());
    unknown.put("4", "a cat");
    assertEquals("result image_id 4 is unknown: not in the references",
        assertThrows(IllegalArgumentException.class, () -> CaptionMetrics.score(references(), unknown)).getMessage());
    Map<String, String> missing = new LinkedHashMap<>(results());
    missing.remove("2");
    assertEquals("reference image 2 has no result (missing)",
        assertThrows(IllegalArgumentException.class, () -> CaptionMetrics.score(references(), missing)).getMessage());
  }

  @Test
  void meteorAndSpiceAreReportedAsNotComputed() {
    assertEquals(List.of("METEOR", "SPICE"), List.copyOf(CaptionMetrics.NOT_COMPUTED.keySet()));
  }
}
