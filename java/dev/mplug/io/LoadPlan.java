package dev.mplug.io;

import dev.mplug.nn.PositionTables;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The decisions of one weight load, checked as a whole before any value is copied.
 *
 * <p>A mapping ({@link OfficialWeights}, {@link PretrainedWeights}) files every checkpoint key: copy into a model
 * parameter, ignore by a {@link Rule}, or unexpected; and may declare model parameters it leaves fresh. Then
 * {@link #execute} checks every shape and dtype, fails listing all mismatches (and, when strict, every missing and
 * unexpected key) before touching the model, and only then copies, in place and without recording gradients.
 */
final class LoadPlan {
  private final String origin;
  private final Map<String, Tensor> target;
  private final Map<String, Pending> copies = new LinkedHashMap<>();
  private final Map<Rule, List<String>> ignored = new LinkedHashMap<>();
  private final List<String> unexpected = new ArrayList<>();
  private final Map<Rule, List<String>> fresh = new LinkedHashMap<>();
  private final List<String> errors = new ArrayList<>();
  private Predicate<String> responsibleFor = name -> true;

  /** A value for one model parameter; a position table may be resampled to the parameter's grid. */
  private record Pending(String source, Tensor value, boolean positionTable) {}

  LoadPlan(String origin, Map<String, Tensor> target) {
    this.origin = origin;
    this.target = target;
  }

  boolean hasTarget(String name) {
    return target.containsKey(name);
  }

  /** Only these model parameters count as missing when nothing is loaded into them (e.g. the ViT for CLIP). */
  void responsibleFor(Predicate<String> names) {
    this.responsibleFor = names;
  }

  void load(String source, Tensor value, String targetName) {
    add(source, value, targetName, false);
  }

  /** A ViT position table: resampled with {@link PositionTables} when the model's grid differs. */
  void loadPositionTable(String source, Tensor value, String targetName) {
    add(source, value, targetName, true);
  }

  private void add(String source, Tensor value, String targetName, boolean positionTable) {
    if (!target.containsKey(targetName)) throw new IllegalStateException("no model parameter " + targetName);
    Pending before = copies.putIfAbsent(targetName, new Pending(source, value, positionTable));
    if (before != null) {
      errors.add("keys '" + before.source() + "' and '" + source + "' both map to model parameter '" + targetName
          + "'");
    }
  }

  void ignore(Rule rule, String source) {
    ignored.computeIfAbsent(rule, r -> new ArrayList<>()).add(source);
  }

  void unexpected(String source) {
    unexpected.add(source);
  }

  void leaveFresh(Rule rule, String targetName) {
    fresh.computeIfAbsent(rule, r -> new ArrayList<>()).add(targetName);
  }

  void error(String message) {
    errors.add(message);
  }

  /**
   * Checks everything, then copies. Throws {@link IllegalArgumentException} (naming the origin and every offending
   * key) on shape or dtype mismatches, and in strict mode on missing or unexpected keys; nothing is copied then.
   */
  @SuppressWarnings("try") // the scope and the no-grad guard act by being open
  LoadReport execute(boolean strict) {
    List<String> resized = new ArrayList<>();
    Map<String, Integer> resizeTo = new LinkedHashMap<>();
    for (var e : copies.entrySet()) {
      String name = e.getKey();
      Pending p = e.getValue();
      Tensor dst = target.get(name);
      long[] from = Tensors.shape(p.value()), to = Tensors.shape(dst);
      if (!Arrays.equals(from, to)) {
        int grid = p.positionTable() ? resizableGrid(from, to) : -1;
        if (grid > 0) {
          resizeTo.put(name, grid);
          resized.add(name + " " + Arrays.toString(from) + " -> " + Arrays.toString(to));
        } else {
          errors.add("key '" + p.source() + "' has shape " + Arrays.toString(from) + " but model parameter '" + name
              + "' has shape " + Arrays.toString(to));
        }
      }
      String kindProblem = kindProblem(p, name, dst);
      if (kindProblem != null) errors.add(kindProblem);
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(origin + ": " + errors.size() + " problem(s), nothing was loaded:\n  "
          + String.join("\n  ", errors));
    }

    List<String> missing = new ArrayList<>();
    Set<String> freshNames = new HashSet<>();
    fresh.values().forEach(freshNames::addAll);
    for (String name : target.keySet()) {
      if (responsibleFor.test(name) && !copies.containsKey(name) && !freshNames.contains(name)) missing.add(name);
    }
    Map<String, String> loaded = new LinkedHashMap<>();
    copies.forEach((name, p) -> loaded.put(name, p.source()));
    LoadReport report = new LoadReport(origin, loaded, ignored, missing, unexpected, fresh, resized);
    if (strict && !report.complete()) {
      throw new IllegalArgumentException(origin + ": strict load failed, nothing was loaded: "
          + missing.size() + " missing" + LoadReport.names(missing) + "; "
          + unexpected.size() + " unexpected" + LoadReport.names(unexpected));
    }

    TorchException.wrap("copying weights from " + origin, () -> {
      try (TensorScope scope = TensorScope.open(); NoGradGuard noGrad = new NoGradGuard()) {
        for (var e : copies.entrySet()) {
          Tensor value = e.getValue().value();
          Integer grid = resizeTo.get(e.getKey());
          if (grid != null) value = PositionTables.resize(value, grid);
          target.get(e.getKey()).copy_(value);
        }
      }
      return null;
    });
    if (!strict) report.log();
    return report;
  }

  /** The new grid side when both shapes are [1 + g*g, D] tables of the same D, else -1. */
  private static int resizableGrid(long[] from, long[] to) {
    if (from.length != 2 || to.length != 2 || from[1] != to[1]) return -1;
    if (PositionTables.gridOf(from[0]) < 0) return -1;
    return PositionTables.gridOf(to[0]);
  }

  /** Values convert within a kind (float16 -> float32), never across (int64 -> float32 would hide a wrong key). */
  private static String kindProblem(Pending p, String name, Tensor dst) {
    var src = DType.fromScalarType(p.value().scalar_type());
    var dt = DType.fromScalarType(dst.scalar_type());
    if (src.isEmpty() || dt.isEmpty()) {
      return "key '" + p.source() + "' (" + p.value().scalar_type() + ") or model parameter '" + name + "' ("
          + dst.scalar_type() + ") has an unsupported dtype";
    }
    if (src.get().kind() != dt.get().kind()) {
      return "key '" + p.source() + "' is " + src.get() + " but model parameter '" + name + "' is " + dt.get()
          + ": not convertible";
    }
    return null;
  }
}
