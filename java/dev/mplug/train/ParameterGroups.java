package dev.mplug.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The official optimizer groups, decided from parameter names alone: the vision transformer ({@code visual_encoder.})
 * trains at its own rate, everything else at the base rate; biases and LayerNorm weights get no weight decay.
 */
public final class ParameterGroups {
  /** One group: which parameters, at which learning-rate multiple of its kind, with or without decay. */
  public record Group(String name, boolean visual, boolean decay, List<String> parameters) {}

  private ParameterGroups() {}

  /**
   * Whether a parameter is exempt from weight decay: biases, LayerNorm weights (BERT names and CLIP's ln_*), and the
   * ITC temperature (decaying it towards 0 would sharpen the contrastive softmax for no reason).
   */
  public static boolean noDecay(String name) {
    if (name.equals("temp")) return true;
    String leaf = name.substring(name.lastIndexOf('.') + 1);
    if (leaf.equals("bias") || leaf.endsWith("_bias")) return true;
    String owner = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : "";
    String ownerLeaf = owner.substring(owner.lastIndexOf('.') + 1);
    return ownerLeaf.equals("LayerNorm") || ownerLeaf.startsWith("ln_") || ownerLeaf.endsWith("layer_norm");
  }

  /** Whether a parameter belongs to the vision transformer (the visual learning rate). */
  public static boolean visual(String name) {
    return name.startsWith("visual_encoder.");
  }

  /** Splits names into up to four groups, in a fixed order; empty groups are dropped. */
  public static List<Group> of(Iterable<String> names) {
    Map<String, Group> groups = new LinkedHashMap<>();
    for (boolean vis : new boolean[] {false, true}) {
      for (boolean decay : new boolean[] {true, false}) {
        String n = (vis ? "visual" : "base") + (decay ? "/decay" : "/no_decay");
        groups.put(n, new Group(n, vis, decay, new ArrayList<>()));
      }
    }
    for (String name : names) {
      String key = (visual(name) ? "visual" : "base") + (noDecay(name) ? "/no_decay" : "/decay");
      groups.get(key).parameters().add(name);
    }
    return groups.values().stream().filter(g -> !g.parameters().isEmpty())
        .map(g -> new Group(g.name(), g.visual(), g.decay(), List.copyOf(g.parameters()))).toList();
  }
}
