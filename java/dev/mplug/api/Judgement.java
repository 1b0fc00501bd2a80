package dev.mplug.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A classifier's verdict on a sentence about images: visual entailment ({@link MPlugModel#entail}: "entailment",
 * "neutral" or "contradiction") or NLVR2 ({@link MPlugModel#verify}: "True" or "False").
 *
 * @param label the most probable class
 * @param probabilities every class's probability (softmax of the logits), in the model's class order
 */
public record Judgement(String label, Map<String, Double> probabilities) {
  public Judgement {
    probabilities = Collections.unmodifiableMap(new LinkedHashMap<>(probabilities));
  }

  /** The probability of {@link #label}. */
  public double confidence() {
    return probabilities.get(label);
  }
}
