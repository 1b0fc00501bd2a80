package dev.mplug.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The sizes in a reference fixture's {@code config.json} (tests/fixtures/mplug-official/*): which computation
 * the folder is ({@code task}: vqa, caption, retrieval, fusion), the vision and BERT sizes, the decoding settings.
 * Consistency of the derived fields (tokens, mlp width, large projection, the fusion layer pattern) is checked, so a
 * fixture that means something else than this port computes fails here, naming the key.
 *
 * @param vision null for the {@code fusion} task (a bare fusion network)
 * @param generation null when the folder decodes nothing
 * @param instantiatedFusionLayers fusion layers in the official checkpoint ({@code text.num_hidden_layers}); the last
 *     {@code text.fusion_layers} of them run
 */
public record FixtureConfig(String name, String task, VisionConfig vision, TextConfig text, int embedDim,
    double temp, GenerationConfig generation, int instantiatedFusionLayers) {
  public static final Set<String> TASKS = Set.of("vqa", "caption", "retrieval", "fusion");

  public FixtureConfig {
    if (!TASKS.contains(task)) throw new IllegalArgumentException("task \"" + task + "\" is not one of " + TASKS);
    if (vision == null && !task.equals("fusion")) throw new IllegalArgumentException("vision is missing");
  }

  public static FixtureConfig read(Path configJson) throws IOException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(configJson.toFile());
    } catch (JsonProcessingException e) {
      throw new IOException(configJson + ": not valid JSON: " + e.getMessage(), e);
    }
    try {
      return parse(root);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
    }
  }

  public static FixtureConfig parse(JsonNode root) {
    String task = text(root, "task");
    JsonNode t = node(root, "text");
    JsonNode bert = root.path("bert_config_json");
    String act = text(t, "hidden_act", "text.hidden_act");
    if (!act.startsWith("gelu") || act.contains("tanh")) {
      throw new IllegalArgumentException("text.hidden_act \"" + act + "\": only the exact (erf) GELU is implemented");
    }
    if (t.has("position_embedding_type") && !t.get("position_embedding_type").asText().equals("absolute")) {
      throw new IllegalArgumentException("text.position_embedding_type must be absolute");
    }
    TextConfig text = new TextConfig(integer(t, "hidden_size", "text"), integer(t, "num_attention_heads", "text"),
        integer(t, "intermediate_size", "text"), integer(t, "vocab_size", "text"),
        integer(t, "max_position_embeddings", "text"), integer(t, "type_vocab_size", "text"),
        number(t, "layer_norm_eps", "text"), bert.path("hidden_dropout_prob").asDouble(0.1),
        bert.path("attention_probs_dropout_prob").asDouble(0.1), integer(t, "text_encoder_layers", "text"),
        integer(t, "fusion_layers", "text"), integer(t, "stride_layer", "text"),
        integer(t, "text_decode_layers", "text"), t.path("pad_token_id").asInt(0));
    int instantiated = integer(t, "num_hidden_layers", "text");
    if (instantiated < text.fusionLayers()) {
      throw new IllegalArgumentException("text.num_hidden_layers (" + instantiated + ") < text.fusion_layers ("
          + text.fusionLayers() + ")");
    }
    if (t.has("fusion_start_layer") && t.get("fusion_start_layer").asInt() != instantiated - text.fusionLayers()) {
      throw new IllegalArgumentException("text.fusion_start_layer must be num_hidden_layers - fusion_layers = "
          + (instantiated - text.fusionLayers()));
    }
    if (t.has("encoder_width") && t.get("encoder_width").asInt() != text.hidden()) {
      throw new IllegalArgumentException("text.encoder_width (" + t.get("encoder_width").asInt()
          + ") != text.hidden_size: cross-attention keys of another width are not supported");
    }
    if (root.has("fusion_layer_pattern")) {
      List<String> expected = new ArrayList<>();
      for (int n = 0; n < text.fusionLayers(); n++) expected.add(text.isConnected(n) ? "connected" : "co-attention");
      List<String> given = new ArrayList<>();
      root.get("fusion_layer_pattern").forEach(x -> given.add(x.asText()));
      if (!given.equals(expected)) {
        throw new IllegalArgumentException("fusion_layer_pattern " + given + " disagrees with the stride rule "
            + "(connected iff n > 0 and n % stride_layer == 0): " + expected);
      }
    }
    VisionConfig vision = null;
    if (root.has("vision")) {
      JsonNode v = root.get("vision");
      int width = integer(v, "width", "vision");
      int mlpWidth = v.has("mlp_width") ? v.get("mlp_width").asInt() : 4 * width;
      if (mlpWidth % width != 0) {
        throw new IllegalArgumentException("vision.mlp_width (" + mlpWidth + ") must be a multiple of vision.width");
      }
      vision = new VisionConfig(integer(v, "image_res", "vision"), integer(v, "patch_size", "vision"), width,
          integer(v, "layers", "vision"), integer(v, "heads", "vision"), mlpWidth / width, 0.1);
      if (v.has("tokens") && v.get("tokens").asInt() != vision.tokens()) {
        throw new IllegalArgumentException("vision.tokens (" + v.get("tokens").asInt() + ") != (image_res/patch_size)^2"
            + " + 1 = " + vision.tokens());
      }
      boolean large = width != text.hidden();
      if (v.has("large_projection") && v.get("large_projection").asBoolean() != large) {
        throw new IllegalArgumentException("vision.large_projection must be " + large + " (vision.width " + width
            + ", text.hidden_size " + text.hidden() + ")");
      }
    }
    GenerationConfig generation = null;
    if (root.has("generation")) {
      JsonNode g = root.get("generation");
      generation = new GenerationConfig(integer(g, "beam_size", "generation"), integer(g, "min_length", "generation"),
          integer(g, "max_length", "generation"), g.path("start_token").asInt(101), g.path("end_token").asInt(102),
          g.path("length_penalty_alpha").asDouble(0.6));
    }
    return new FixtureConfig(root.path("name").asText(""), task, vision, text, root.path("embed_dim").asInt(256),
        root.path("temp").asDouble(0.07), generation, instantiated);
  }

  /** The model the task's official class builds (the fusion task has none: it is a bare fusion network). */
  public MPlugConfig model() {
    Set<Part> parts = switch (task) {
      case "vqa" -> Part.vqa();
      case "caption" -> Part.caption();
      case "retrieval" -> Part.retrieval();
      default -> throw new IllegalArgumentException("task " + task + " has no full model (a bare fusion network)");
    };
    return new MPlugConfig(vision, text, embedDim, temp, generation != null ? generation : GenerationConfig.vqa(),
        parts);
  }

  private static JsonNode node(JsonNode parent, String key) {
    JsonNode n = parent.get(key);
    if (n == null || n.isNull()) throw new IllegalArgumentException(key + " is missing");
    return n;
  }

  private static String text(JsonNode parent, String key) {
    return text(parent, key, key);
  }

  private static String text(JsonNode parent, String key, String fullKey) {
    JsonNode n = parent.get(key);
    if (n == null || !n.isTextual()) throw new IllegalArgumentException(fullKey + " is missing or not a string");
    return n.asText();
  }

  private static int integer(JsonNode parent, String key, String section) {
    JsonNode n = parent.get(key);
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new IllegalArgumentException(section + "." + key + " is missing or not an integer");
    }
    return n.asInt();
  }

  private static double number(JsonNode parent, String key, String section) {
    JsonNode n = parent.get(key);
    if (n == null || !n.isNumber()) throw new IllegalArgumentException(section + "." + key + " is missing or not a number");
    return n.asDouble();
  }
}
