package dev.mplug.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What a weight load did with every key: loaded (model parameter <- checkpoint key), ignored by a named rule,
 * missing (model parameters nothing was loaded into), unexpected (checkpoint keys no rule explains), plus the
 * parameters left fresh on purpose and the position tables that were resized.
 *
 * @param origin where the weights came from (a file)
 * @param loaded model parameter name -> checkpoint key, in load order
 * @param ignored rule -> checkpoint keys
 * @param missing model parameters neither loaded nor left fresh by a rule
 * @param unexpected checkpoint keys no rule explains
 * @param fresh rule -> model parameters deliberately left at their initial values
 * @param resized model parameters whose position table was resampled to the model's grid
 */
public record LoadReport(String origin, Map<String, String> loaded, Map<Rule, List<String>> ignored,
    List<String> missing, List<String> unexpected, Map<Rule, List<String>> fresh, List<String> resized) {
  private static final ScopedValue<Boolean> QUIET = ScopedValue.newInstance();


  public LoadReport {
    loaded = Collections.unmodifiableMap(new LinkedHashMap<>(loaded));
    ignored = copy(ignored);
    missing = List.copyOf(missing);
    unexpected = List.copyOf(unexpected);
    fresh = copy(fresh);
    resized = List.copyOf(resized);
  }

  private static Map<Rule, List<String>> copy(Map<Rule, List<String>> m) {
    Map<Rule, List<String>> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, List.copyOf(v)));
    return Collections.unmodifiableMap(out);
  }

  /** Rule -> number of keys it ignored. */
  public Map<Rule, Integer> ignoredCounts() {
    Map<Rule, Integer> out = new LinkedHashMap<>();
    ignored.forEach((k, v) -> out.put(k, v.size()));
    return out;
  }

  public int ignoredTotal() {
    return ignored.values().stream().mapToInt(List::size).sum();
  }

  /** Nothing missing, nothing unexpected. */
  public boolean complete() {
    return missing.isEmpty() && unexpected.isEmpty();
  }

  /**
   * Logs {@link #summary()} at INFO, unless inside {@link #quietly}: a non-strict load reports what it loaded, kept,
   * ignored and missed.
   */
  public void log() {
    if (!QUIET.orElse(false)) System.getLogger(LoadReport.class.getName()).log(System.Logger.Level.INFO, summary());
  }

  /**
   * Runs {@code load} without logging its reports: for a caller that checks a report first, so that a load it refuses
   * in one line is not preceded by the report's lines, and logs the report ({@link #log}) when it accepts it.
   */
  public static <T> T quietly(Supplier<T> load) {
    return ScopedValue.where(QUIET, true).call(load::get);
  }

  /** A few lines for a log: counts per group, and the names of missing and unexpected keys. */
  public String summary() {
    StringBuilder b = new StringBuilder();
    b.append("weights from ").append(origin).append(": loaded ").append(loaded.size()).append(" parameters");
    if (!resized.isEmpty()) b.append(" (resized position tables: ").append(String.join(", ", resized)).append(')');
    b.append("\n  ignored by rule: ").append(ignoredTotal());
    ignored.forEach((rule, keys) -> b.append("\n    ").append(keys.size()).append("  ").append(rule));
    if (!fresh.isEmpty()) {
      b.append("\n  left fresh: ").append(fresh.values().stream().mapToInt(List::size).sum());
      fresh.forEach((rule, keys) -> b.append("\n    ").append(keys.size()).append("  ").append(rule));
    }
    b.append("\n  missing: ").append(missing.size()).append(names(missing));
    b.append("\n  unexpected: ").append(unexpected.size()).append(names(unexpected));
    return b.toString();
  }

  static String names(List<String> keys) {
    if (keys.isEmpty()) return "";
    int show = Math.min(keys.size(), 20);
    List<String> shown = new ArrayList<>(keys.subList(0, show));
    if (keys.size() > show) shown.add("... and " + (keys.size() - show) + " more");
    return " " + shown;
  }

  @Override
  public String toString() {
    return summary();
  }
}
