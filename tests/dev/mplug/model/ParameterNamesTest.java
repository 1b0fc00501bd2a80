package dev.mplug.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** named_parameters() yields exactly the names of the parameter-name contract (../briefs/param-names.md). */
class ParameterNamesTest {
  private static final String[] LN = {"weight", "bias"};

  private static void lin(List<String> out, String prefix) {
    for (String s : LN) out.add(prefix + "." + s);
  }

  /** The contract's names for a tiny model, written out from the contract text (not from the code). */
  private static List<String> contract(MPlugConfig c, String suffix) {
    List<String> n = new ArrayList<>();
    String v = "visual_encoder" + suffix + ".visual.";
    n.add(v + "class_embedding");
    n.add(v + "positional_embedding");
    n.add(v + "conv1.weight");
    lin(n, v + "ln_pre");
    lin(n, v + "ln_post");
    for (int i = 0; i < c.vision().layers(); i++) {
      String b = v + "transformer.resblocks." + i + ".";
      n.add(b + "attn.in_proj_weight");
      n.add(b + "attn.in_proj_bias");
      lin(n, b + "attn.out_proj");
      lin(n, b + "ln_1");
      lin(n, b + "ln_2");
      lin(n, b + "mlp.c_fc");
      lin(n, b + "mlp.c_proj");
    }
    if (c.largeProjection()) {
      lin(n, "visn_fc" + suffix);
      lin(n, "visn_layer_norm" + suffix);
    }
    embeddings(n, "text_encoder" + suffix + ".embeddings");
    for (int i = 0; i < c.text().textEncoderLayers(); i++) bert(n, "text_encoder" + suffix + ".encoder.layer." + i, false);
    for (int i = 0; i < c.text().fusionLayers(); i++) bert(n, "fusion_encoder" + suffix + ".encoder.layer." + i, true);
    if (suffix.isEmpty()) {
      embeddings(n, "text_decoder.bert.embeddings");
      for (int i = 0; i < c.text().decoderLayers(); i++) bert(n, "text_decoder.bert.encoder.layer." + i, true);
      n.add("text_decoder.cls.predictions.bias");
      lin(n, "text_decoder.cls.predictions.transform.dense");
      lin(n, "text_decoder.cls.predictions.transform.LayerNorm");
      lin(n, "itm_head");
      n.add("temp");
    }
    lin(n, "vision_proj" + suffix);
    lin(n, "text_proj" + suffix);
    return n;
  }

  private static void embeddings(List<String> n, String p) {
    n.add(p + ".word_embeddings.weight");
    n.add(p + ".position_embeddings.weight");
    n.add(p + ".token_type_embeddings.weight");
    lin(n, p + ".LayerNorm");
  }

  private static void bert(List<String> n, String p, boolean cross) {
    for (String q : new String[] {"query", "key", "value"}) lin(n, p + ".attention.self." + q);
    lin(n, p + ".attention.output.dense");
    lin(n, p + ".attention.output.LayerNorm");
    if (cross) {
      for (String q : new String[] {"query", "key", "value"}) lin(n, p + ".crossattention.self." + q);
      lin(n, p + ".crossattention.output.dense");
      lin(n, p + ".crossattention.output.LayerNorm");
    }
    lin(n, p + ".intermediate.dense");
    lin(n, p + ".output.dense");
    lin(n, p + ".output.LayerNorm");
  }

  @Test
  void allPartsWithMomentumTwinsFollowTheContract() {
    // width 48 != hidden 32: the large projection and its twin exist
    MPlugConfig c = MPlugConfig.tiny().withVision(new VisionConfig(32, 8, 48, 2, 4, 4, 0.1)).plus(Part.MOMENTUM);
    Map<String, Tensor> params = new MPlug(c).namedParameters();
    List<String> expected = new ArrayList<>(contract(c, ""));
    expected.addAll(contract(c, "_m"));
    assertEquals(new TreeSet<>(expected), new TreeSet<>(params.keySet()));
    assertEquals(expected.size(), params.size(), "no duplicates");
  }

  @Test
  void shapesFollowTheContract() {
    MPlugConfig c = MPlugConfig.tiny();
    Map<String, Tensor> p = new MPlug(c).namedParameters();
    int w = c.vision().width(), h = c.text().hidden();
    assertArrayEquals(new long[] {w}, Tensors.shape(p.get("visual_encoder.visual.class_embedding")));
    assertArrayEquals(new long[] {c.vision().tokens(), w},
        Tensors.shape(p.get("visual_encoder.visual.positional_embedding")));
    assertArrayEquals(new long[] {w, 3, 8, 8}, Tensors.shape(p.get("visual_encoder.visual.conv1.weight")));
    assertArrayEquals(new long[] {3L * w, w},
        Tensors.shape(p.get("visual_encoder.visual.transformer.resblocks.1.attn.in_proj_weight")));
    assertArrayEquals(new long[] {4L * w, w},
        Tensors.shape(p.get("visual_encoder.visual.transformer.resblocks.0.mlp.c_fc.weight")));
    assertArrayEquals(new long[] {c.text().intermediate(), h},
        Tensors.shape(p.get("fusion_encoder.encoder.layer.2.intermediate.dense.weight")));
    assertArrayEquals(new long[] {c.text().vocab()}, Tensors.shape(p.get("text_decoder.cls.predictions.bias")));
    assertArrayEquals(new long[] {c.embedDim(), h}, Tensors.shape(p.get("vision_proj.weight")));
    assertArrayEquals(new long[] {2, h}, Tensors.shape(p.get("itm_head.weight")));
    assertArrayEquals(new long[] {}, Tensors.shape(p.get("temp")));
    assertEquals(0.07, p.get("temp").item_double(), 1e-7);
  }

  @Test
  void taskModelsHaveOnlyTheirParts() {
    Map<String, Tensor> caption = new MPlug(MPlugConfig.tiny().withParts(Part.caption())).namedParameters();
    assertEquals(0, caption.keySet().stream().filter(k -> k.startsWith("text_encoder") || k.startsWith("fusion")
        || k.startsWith("itm") || k.equals("temp")).count());
    Map<String, Tensor> retrieval = new MPlug(MPlugConfig.tiny().withParts(Part.retrieval())).namedParameters();
    assertEquals(0, retrieval.keySet().stream().filter(k -> k.startsWith("text_decoder")).count());
  }
}
