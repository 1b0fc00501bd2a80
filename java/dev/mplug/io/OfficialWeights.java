package dev.mplug.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;

/**
 * Loads an official mPLUG checkpoint (X-PLUG/mPLUG, fine-tuned or pretrained names) into this project's parameters.
 *
 * <p>The project keeps the official names with two differences (see the parameter-name contract): the fusion network
 * holds only its executed layers, so official {@code fusion_encoder.encoder.layer.(s + n)} becomes layer {@code n}
 * (s = fusion_start_layer; the layers below s are dead), and the LM head's decoder weight and bias are tied, not
 * separate. Every other checkpoint key either maps to the same name or is ignored by a named {@link Rule}: CLIP's text
 * tower and {@code visual.proj}, the fusion embeddings, {@code position_ids} buffers, the ITC queues, the momentum
 * twins {@code *_m} when the model has none (when it has them, they load into the {@code _m} names and never into
 * the online ones). Pretrained names {@code text_encoder.bert.*} and {@code fusion_encoder.fusion.* / .bert.*} are
 * read as the fine-tune names, as the official fine-tuning scripts do, and the ViT position table is resampled when
 * the model's resolution differs.
 */
public final class OfficialWeights {
  private static final Set<String> QUEUES = Set.of("image_queue", "text_queue", "idx_queue", "queue_ptr");
  private static final Set<String> MODULES = Set.of("visual_encoder", "text_encoder", "fusion_encoder",
      "text_decoder", "vision_proj", "text_proj", "visn_fc", "visn_layer_norm", "itm_head");
  private static final Pattern FUSION_LAYER = Pattern.compile("fusion_encoder(_m)?\\.encoder\\.layer\\.(\\d+)\\.(.+)");

  private OfficialWeights() {}

  /**
   * @param fusionStartLayer index of the first executed official fusion layer (the official
   *     {@code num_hidden_layers - fusion_layers}); -1 infers it as the checkpoint's fusion layer count minus the
   *     model's
   * @param modulePrefix the official module the source and target names are relative to: "" for a whole model,
   *     "fusion_encoder." for a bare FusionModel checkpoint loaded into a fusion network on its own
   * @param sourcePrefix a prefix every checkpoint key carries and the official names do not (e.g. "module." from
   *     DistributedDataParallel); "" for none
   * @param strict fail (before loading anything) when a model parameter is missing or a key is unexpected
   */
  public record Options(int fusionStartLayer, String modulePrefix, String sourcePrefix, boolean strict) {
    public Options {
      if (fusionStartLayer < -1) throw new IllegalArgumentException("fusionStartLayer must be >= 0 (or -1: infer)");
      if (!modulePrefix.isEmpty() && !modulePrefix.endsWith(".")) {
        throw new IllegalArgumentException("modulePrefix must end with '.', got '" + modulePrefix + "'");
      }
    }

    /** Whole model, fusion start inferred, strict. */
    public static Options defaults() {
      return new Options(-1, "", "", true);
    }

    public Options withFusionStartLayer(int layer) {
      return new Options(layer, modulePrefix, sourcePrefix, strict);
    }

    public Options withModulePrefix(String prefix) {
      return new Options(fusionStartLayer, prefix, sourcePrefix, strict);
    }

    public Options withSourcePrefix(String prefix) {
      return new Options(fusionStartLayer, modulePrefix, prefix, strict);
    }

    public Options withStrict(boolean s) {
      return new Options(fusionStartLayer, modulePrefix, sourcePrefix, s);
    }
  }

  /** Reads {@code checkpoint} (torch zip or safetensors) and loads it into {@code target}. */
  public static LoadReport load(Path checkpoint, Map<String, Tensor> target, Options options) throws IOException {
    try (StateDict source = CheckpointFiles.read(checkpoint)) {
      return load(source, target, options);
    }
  }

  /**
   * Copies the checkpoint's values into {@code target} (a module's named parameters) in place, without recording
   * gradients. Shape or dtype mismatches, and in strict mode missing or unexpected keys, fail before anything is
   * copied, with every offending key named.
   */
  public static LoadReport load(StateDict source, Map<String, Tensor> target, Options options) {
    return new Mapping(source, target, options).plan().execute(options.strict());
  }

  /** One load: the rules applied to every source key. */
  private static final class Mapping {
    private final StateDict source;
    private final Options options;
    private final LoadPlan plan;
    private final Set<String> targets = new HashSet<>(); // official-relative: modulePrefix + target name
    private final Set<String> topModules = new HashSet<>();
    private final int fusionStart;

    Mapping(StateDict source, Map<String, Tensor> target, Options options) {
      this.source = source;
      this.options = options;
      this.plan = new LoadPlan(source.origin(), target);
      for (String name : target.keySet()) {
        String full = options.modulePrefix() + name;
        targets.add(full);
        topModules.add(top(full));
      }
      this.fusionStart = options.fusionStartLayer() >= 0 ? options.fusionStartLayer() : inferFusionStart();
    }

    /** Official fusion layers in the checkpoint minus the model's (the official start_layer rule). */
    private int inferFusionStart() {
      int official = 0, model = 0;
      for (String key : source.keys()) {
        String k = officialName(key);
        Matcher m = k == null ? null : FUSION_LAYER.matcher(k);
        if (m != null && m.matches()) official = Math.max(official, Integer.parseInt(m.group(2)) + 1);
      }
      for (String t : targets) {
        Matcher m = FUSION_LAYER.matcher(t);
        if (m.matches()) model = Math.max(model, Integer.parseInt(m.group(2)) + 1);
      }
      if (model > official && official > 0) {
        plan.error("the checkpoint has " + official + " fusion layers but the model has " + model);
      }
      return Math.max(0, official - model);
    }

    LoadPlan plan() {
      for (String key : source.keys()) classify(key);
      return plan;
    }

    /** The official (fine-tune) name of a checkpoint key, or null when it lacks the source prefix. */
    private String officialName(String key) {
      if (!key.startsWith(options.sourcePrefix())) return null;
      String k = options.modulePrefix() + key.substring(options.sourcePrefix().length());
      // pretrained naming, renamed the way the official fine-tuning scripts do
      String top = top(k);
      String base = base(top);
      String rest = k.substring(Math.min(k.length(), top.length() + 1));
      if (base.equals("text_encoder") && rest.startsWith("bert.")) return top + "." + rest.substring(5);
      if (base.equals("fusion_encoder") && rest.startsWith("fusion.")) return top + "." + rest.substring(7);
      if (base.equals("fusion_encoder") && rest.startsWith("bert.")) return top + "." + rest.substring(5);
      return k;
    }

    private void classify(String key) {
      String k = officialName(key);
      if (k == null) {
        plan.unexpected(key);
        return;
      }
      String top = top(k);
      if (QUEUES.contains(k)) {
        plan.ignore(Rule.ITC_QUEUES, key);
        return;
      }
      boolean twin = top.endsWith("_m") && MODULES.contains(base(top));
      if (twin && !hasTwins()) {
        plan.ignore(Rule.MOMENTUM_TWINS, key);
        return;
      }
      String base = base(top);
      String rest = k.substring(Math.min(k.length(), top.length() + 1));
      switch (base) {
        case "visual_encoder" -> {
          if (!rest.startsWith("visual.")) plan.ignore(Rule.CLIP_TEXT_TOWER, key);
          else if (rest.equals("visual.proj")) plan.ignore(Rule.CLIP_PROJ, key);
          else target(key, k, rest.equals("visual.positional_embedding"));
        }
        case "text_encoder", "fusion_encoder" -> {
          if (!topModules.contains(top)) plan.ignore(Rule.ABSENT_ENCODERS, key);
          else if (rest.startsWith("cls.")) plan.ignore(Rule.PRETRAINING_MLM_HEADS, key);
          else if (base.equals("fusion_encoder") && rest.startsWith("embeddings.")) {
            plan.ignore(Rule.FUSION_EMBEDDINGS, key);
          } else if (rest.endsWith("position_ids")) plan.ignore(Rule.POSITION_IDS, key);
          else if (base.equals("fusion_encoder")) fusionLayer(key, k);
          else target(key, k, false);
        }
        case "text_decoder" -> {
          if (rest.equals("cls.predictions.decoder.weight") && !targets.contains(k)) {
            tied(key, top + ".bert.embeddings.word_embeddings.weight");
          } else if (rest.equals("cls.predictions.decoder.bias") && !targets.contains(k)) {
            tied(key, top + ".cls.predictions.bias");
          } else if (rest.endsWith("position_ids")) plan.ignore(Rule.POSITION_IDS, key);
          else target(key, k, false);
        }
        default -> {
          if (k.endsWith(".position_ids")) plan.ignore(Rule.POSITION_IDS, key);
          else target(key, k, false);
        }
      }
    }

    /** Executed official layer s + n -> project layer n; below s: dead. */
    private void fusionLayer(String key, String k) {
      Matcher m = FUSION_LAYER.matcher(k);
      if (!m.matches()) {
        target(key, k, false);
        return;
      }
      int layer = Integer.parseInt(m.group(2));
      if (layer < fusionStart) {
        plan.ignore(Rule.DEAD_FUSION_LAYERS, key);
        return;
      }
      String twin = m.group(1) == null ? "" : m.group(1);
      target(key, "fusion_encoder" + twin + ".encoder.layer." + (layer - fusionStart) + "." + m.group(3), false);
    }

    /** The tied LM-head key: ignored, after checking it really holds its partner's values. */
    private void tied(String key, String partnerOfficial) {
      String partner = sourceKey(partnerOfficial);
      if (partner != null && source.contains(partner) && !source.get(key).equal(source.get(partner))) {
        plan.error("key '" + key + "' differs from '" + partner + "', but the model ties them (one parameter)");
        return;
      }
      plan.ignore(Rule.TIED_DECODER, key);
    }

    /** The checkpoint key whose official name is {@code official} (inverse of the prefix handling). */
    private String sourceKey(String official) {
      if (!official.startsWith(options.modulePrefix())) return null;
      return options.sourcePrefix() + official.substring(options.modulePrefix().length());
    }

    private void target(String key, String projectName, boolean positionTable) {
      if (!targets.contains(projectName) || !projectName.startsWith(options.modulePrefix())) {
        plan.unexpected(key);
        return;
      }
      String name = projectName.substring(options.modulePrefix().length());
      if (positionTable) plan.loadPositionTable(key, source.get(key), name);
      else plan.load(key, source.get(key), name);
    }

    private boolean hasTwins() {
      for (String t : topModules) if (t.endsWith("_m") && MODULES.contains(base(t))) return true;
      return false;
    }
  }

  private static String top(String name) {
    int dot = name.indexOf('.');
    return dot < 0 ? name : name.substring(0, dot);
  }

  /** The online module of a momentum twin ({@code visual_encoder_m} -> {@code visual_encoder}). */
  private static String base(String top) {
    return top.endsWith("_m") && MODULES.contains(top.substring(0, top.length() - 2))
        ? top.substring(0, top.length() - 2) : top;
  }
}
