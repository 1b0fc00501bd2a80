package dev.mplug.task;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One evaluation of a downstream task: its metrics by name (percentages or the reference tool's scale, higher is
 * better) and the results in the official result format (e.g. {@code [{"question_id", "answer"}]}), which
 * {@code mplug evaluate --out} writes as JSON.
 *
 * @param notes what the evaluation could not compute and why (e.g. METEOR without its jar), by metric name
 */
public record TaskEvaluation(Map<String, Double> metrics, List<Map<String, Object>> results, Map<String, String> notes) {
  public TaskEvaluation {
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    results = List.copyOf(results);
    notes = Collections.unmodifiableMap(new LinkedHashMap<>(notes));
  }

  public TaskEvaluation(Map<String, Double> metrics, List<Map<String, Object>> results) {
    this(metrics, results, Map.of());
  }

  /** One metric; an unknown name is an error naming the known ones. */
  public double metric(String name) {
    Double v = metrics.get(name);
    if (v == null) throw new IllegalArgumentException("unknown metric " + name + " (known: " + metrics.keySet() + ")");
    return v;
  }
}
