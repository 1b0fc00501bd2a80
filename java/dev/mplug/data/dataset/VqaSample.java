package dev.mplug.data.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mplug.data.text.TextCleaning;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A VQA question with its answers and their weights, the source dataset ("vqa", "vg" or "gqa"), and the optional OCR
 * tokens and object labels of the image. Test entries have no answers.
 *
 * <p>Weights follow the official loader: for "vqa" each distinct answer weighs count / number of answers (so they sum
 * to 1); for "vg" and "gqa" every answer weighs 0.5.
 */
public record VqaSample(long questionId, String question, List<String> answers, List<Double> weights, String image,
    String dataset, List<String> ocr, List<String> objectLabels) implements Sample {
  /** Separator between the question, the OCR tokens and the object labels. */
  public static final String CONTEXT_SEPARATOR = " [SEP] ";

  public VqaSample {
    answers = List.copyOf(answers);
    weights = List.copyOf(weights);
    ocr = List.copyOf(ocr);
    objectLabels = List.copyOf(objectLabels);
    if (answers.size() != weights.size()) {
      throw new IllegalArgumentException(answers.size() + " answers but " + weights.size() + " weights");
    }
  }

  static VqaSample parse(Annotation a) {
    String dataset = a.has("dataset") ? a.string("dataset") : "vqa";
    List<String> raw = a.has("answer") ? a.stringOrStrings("answer") : List.of();
    List<String> answers = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    switch (dataset) {
      case "vqa" -> {
        Map<String, Integer> counts = new LinkedHashMap<>();       // first-occurrence order, like the official dict
        for (String answer : raw) counts.merge(answer, 1, Integer::sum);
        counts.forEach((answer, count) -> {
          answers.add(answer);
          weights.add((double) count / raw.size());
        });
      }
      case "vg", "gqa" -> {
        answers.addAll(raw);
        raw.forEach(x -> weights.add(0.5));
      }
      default -> throw a.bad("field \"dataset\" must be \"vqa\", \"vg\" or \"gqa\", got \"" + dataset + "\"");
    }
    return new VqaSample(a.integer("question_id"), a.string("question"), answers, weights, a.relativePath("image"),
        dataset, ocrTokens(a), objectLabels(a));
  }

  /** OCR tokens: a list of strings, or the official list of {@code [position, token]} pairs. */
  private static List<String> ocrTokens(Annotation a) {
    JsonNode v = a.raw("ocr");
    if (v == null) return List.of();
    if (!v.isArray()) throw a.wrongType("ocr", "a list of strings or [position, token] pairs", v);
    List<String> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (e.isTextual()) {
        out.add(e.asText());
      } else if (e.isArray() && e.size() == 2 && e.get(1).isTextual()) {
        out.add(e.get(1).asText());
      } else {
        throw a.wrongType("ocr", "a list of strings or [position, token] pairs", v);
      }
    }
    return out;
  }

  /** Object labels: a list of strings, or the official single string joined by "&&". */
  private static List<String> objectLabels(Annotation a) {
    JsonNode v = a.raw("object_label");
    if (v == null) return List.of();
    if (v.isTextual()) return v.asText().isEmpty() ? List.of() : List.of(v.asText().split("&&", -1));
    return a.strings("object_label");
  }

  /**
   * The question as the model reads it: the question, then {@code " [SEP] "} + the OCR tokens (joined by spaces and
   * cleaned like a question, at most {@code maxOcrWords} words) when there are any and {@code addOcr}, then
   * {@code " [SEP] "} + the object labels when there are any and {@code addObjects}.
   */
  public String questionWithContext(boolean addOcr, boolean addObjects, int maxOcrWords) {
    StringBuilder q = new StringBuilder(question);
    if (addOcr && !ocr.isEmpty()) {
      q.append(CONTEXT_SEPARATOR).append(TextCleaning.preQuestion(String.join(" ", ocr), maxOcrWords));
    }
    if (addObjects && !objectLabels.isEmpty()) q.append(CONTEXT_SEPARATOR).append(String.join(" ", objectLabels));
    return q.toString();
  }

  @Override
  public List<String> media() {
    return List.of(image);
  }

  @Override
  public Task task() {
    return Task.VQA;
  }
}
