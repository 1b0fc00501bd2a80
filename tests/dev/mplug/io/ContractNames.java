package dev.mplug.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Model parameters named and shaped as the parameter-name contract says (briefs/param-names.md), built from a
 * fixture's config.json, standing in for a module's named_parameters until the model exists. Values are zeros.
 */
final class ContractNames {
  private final Map<String, Tensor> params = new LinkedHashMap<>();
  private final int h, inter, vocab, maxPos, typeVocab, encoderWidth;

  private ContractNames(JsonNode text) {
    h = text.get("hidden_size").asInt();
    inter = text.get("intermediate_size").asInt();
    vocab = text.get("vocab_size").asInt();
    maxPos = text.get("max_position_embeddings").asInt();
    typeVocab = text.get("type_vocab_size").asInt();
    encoderWidth = text.get("encoder_width").asInt();
  }

  /** The parameters of the model the fixture's task uses; {@code twins} adds the momentum encoders. */
  static Map<String, Tensor> forFixture(JsonNode cfg, boolean twins) {
    JsonNode text = cfg.get("text");
    ContractNames c = new ContractNames(text);
    int tel = text.get("text_encoder_layers").asInt();
    int fl = text.get("fusion_layers").asInt();
    int dl = text.get("text_decode_layers").asInt();
    String task = cfg.get("task").asText();
    if (task.equals("fusion")) {
      for (int n = 0; n < fl; n++) c.bertLayer("encoder.layer." + n + ".", true);
      return c.params;
    }
    JsonNode v = cfg.get("vision");
    boolean large = v.get("large_projection").asBoolean();
    for (String m : twins ? new String[] {"", "_m"} : new String[] {""}) {
      c.vision("visual_encoder" + m + ".visual.", v);
      if (large) {
        c.p("visn_fc" + m + ".weight", c.h, v.get("width").asInt());
        c.p("visn_fc" + m + ".bias", c.h);
        c.p("visn_layer_norm" + m + ".weight", c.h);
        c.p("visn_layer_norm" + m + ".bias", c.h);
      }
      if (!task.equals("caption")) {
        c.embeddings("text_encoder" + m + ".embeddings.");
        for (int n = 0; n < tel; n++) c.bertLayer("text_encoder" + m + ".encoder.layer." + n + ".", false);
        for (int n = 0; n < fl; n++) c.bertLayer("fusion_encoder" + m + ".encoder.layer." + n + ".", true);
      }
      if (task.equals("retrieval")) {
        int e = cfg.get("embed_dim").asInt();
        c.p("vision_proj" + m + ".weight", e, c.h);
        c.p("vision_proj" + m + ".bias", e);
        c.p("text_proj" + m + ".weight", e, c.h);
        c.p("text_proj" + m + ".bias", e);
      }
    }
    if (task.equals("retrieval")) {
      c.p("itm_head.weight", 2, c.h);
      c.p("itm_head.bias", 2);
      c.p("temp");
    }
    if (task.equals("vqa") || task.equals("caption")) {
      c.embeddings("text_decoder.bert.embeddings.");
      for (int n = 0; n < dl; n++) c.bertLayer("text_decoder.bert.encoder.layer." + n + ".", true);
      c.p("text_decoder.cls.predictions.bias", c.vocab);
      c.p("text_decoder.cls.predictions.transform.dense.weight", c.h, c.h);
      c.p("text_decoder.cls.predictions.transform.dense.bias", c.h);
      c.p("text_decoder.cls.predictions.transform.LayerNorm.weight", c.h);
      c.p("text_decoder.cls.predictions.transform.LayerNorm.bias", c.h);
    }
    return c.params;
  }

  private void p(String name, long... shape) {
    if (params.put(name, torch.zeros(shape)) != null) throw new IllegalStateException("duplicate " + name);
  }

  void vision(String pre, JsonNode v) {
    int w = v.get("width").asInt(), patch = v.get("patch_size").asInt();
    p(pre + "class_embedding", w);
    p(pre + "positional_embedding", v.get("tokens").asInt(), w);
    p(pre + "conv1.weight", w, 3, patch, patch);
    p(pre + "ln_pre.weight", w);
    p(pre + "ln_pre.bias", w);
    for (int n = 0; n < v.get("layers").asInt(); n++) {
      String b = pre + "transformer.resblocks." + n + ".";
      p(b + "attn.in_proj_weight", 3L * w, w);
      p(b + "attn.in_proj_bias", 3L * w);
      p(b + "attn.out_proj.weight", w, w);
      p(b + "attn.out_proj.bias", w);
      p(b + "ln_1.weight", w);
      p(b + "ln_1.bias", w);
      p(b + "mlp.c_fc.weight", 4L * w, w);
      p(b + "mlp.c_fc.bias", 4L * w);
      p(b + "mlp.c_proj.weight", w, 4L * w);
      p(b + "mlp.c_proj.bias", w);
      p(b + "ln_2.weight", w);
      p(b + "ln_2.bias", w);
    }
    p(pre + "ln_post.weight", w);
    p(pre + "ln_post.bias", w);
  }

  void embeddings(String pre) {
    p(pre + "word_embeddings.weight", vocab, h);
    p(pre + "position_embeddings.weight", maxPos, h);
    p(pre + "token_type_embeddings.weight", typeVocab, h);
    p(pre + "LayerNorm.weight", h);
    p(pre + "LayerNorm.bias", h);
  }

  void bertLayer(String pre, boolean cross) {
    attention(pre + "attention.", h);
    if (cross) attention(pre + "crossattention.", encoderWidth);
    p(pre + "intermediate.dense.weight", inter, h);
    p(pre + "intermediate.dense.bias", inter);
    p(pre + "output.dense.weight", h, inter);
    p(pre + "output.dense.bias", h);
    p(pre + "output.LayerNorm.weight", h);
    p(pre + "output.LayerNorm.bias", h);
  }

  private void attention(String pre, int kvWidth) {
    p(pre + "self.query.weight", h, h);
    p(pre + "self.query.bias", h);
    p(pre + "self.key.weight", h, kvWidth);
    p(pre + "self.key.bias", h);
    p(pre + "self.value.weight", h, kvWidth);
    p(pre + "self.value.bias", h);
    p(pre + "output.dense.weight", h, h);
    p(pre + "output.dense.bias", h);
    p(pre + "output.LayerNorm.weight", h);
    p(pre + "output.LayerNorm.bias", h);
  }
}
