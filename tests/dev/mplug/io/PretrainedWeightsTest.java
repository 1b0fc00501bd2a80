package dev.mplug.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Initialisation from public weights: the tiny OpenAI-CLIP-style and Hugging Face BERT-style files of
 * tests/resources/io (generate.py), into targets named by the contract.
 */
@SuppressWarnings("try") // tensor scopes free memory by being open
class PretrainedWeightsTest {
  @TempDir Path dir;

  /** A tiny mPLUG (VQA layout) with the sizes of the generated CLIP and BERT files; grid = image_res / patch. */
  private static Map<String, Tensor> tinyModel(int grid, boolean twins, boolean decoder) throws Exception {
    String json = """
        {"task": "%s", "text": {"hidden_size": 8, "intermediate_size": 16, "vocab_size": 20,
          "max_position_embeddings": 16, "type_vocab_size": 2, "encoder_width": 8,
          "text_encoder_layers": 2, "fusion_layers": 2, "text_decode_layers": 2},
         "vision": {"width": 8, "patch_size": 4, "tokens": %d, "layers": 2, "large_projection": false},
         "embed_dim": 4}""".formatted(decoder ? "vqa" : "retrieval", 1 + grid * grid);
    JsonNode cfg = new ObjectMapper().readTree(json);
    return ContractNames.forFixture(cfg, twins);
  }

  private static StateDict clip() throws Exception {
    return TorchCheckpoint.readStateDict(TorchCheckpointFormatsTest.resource("clip_tiny_fp16.pt"));
  }

  private static StateDict bert() throws Exception {
    return TorchCheckpoint.readStateDict(TorchCheckpointFormatsTest.resource("bert_tiny.bin"));
  }

  @Test
  void clipFillsTheVisionEncoderAndResamplesThePositionTable() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict clip = clip()) {
      Map<String, Tensor> model = tinyModel(2, false, true); // 8 px model, CLIP had a 4x4 grid
      LoadReport r = ClipWeights.load(clip, model, true);
      assertTrue(r.complete(), r.summary());
      assertEquals(Map.of(Rule.CLIP_TEXT_TOWER, 18, Rule.CLIP_PROJ, 1, Rule.CLIP_METADATA, 3), r.ignoredCounts());
      assertEquals(List.of("visual_encoder.visual.positional_embedding [17, 8] -> [5, 8]"), r.resized());
      // CLIP's cell (r, c) holds r + 10c; 4 -> 2 samples source coordinates 0.5 and 2.5 on each axis
      float[] table = Tensors.toFloats(model.get("visual_encoder.visual.positional_embedding"));
      float[] rows = {-1f, 5.5f, 25.5f, 7.5f, 27.5f};
      for (int row = 0; row < 5; row++) {
        for (int f = 0; f < 8; f++) assertEquals(rows[row], table[row * 8 + f], 1e-6, "row " + row);
      }
      // everything else: CLIP's value (float16) in the float32 parameter
      for (var e : r.loaded().entrySet()) {
        if (e.getKey().endsWith("positional_embedding")) continue;
        assertTrue(model.get(e.getKey()).equal(clip.get(e.getValue()).to(torch.ScalarType.Float)), e.getKey());
      }
      assertEquals(0.0, model.get("text_encoder.embeddings.LayerNorm.weight").abs().sum().item_double(),
          "the rest of the model is untouched");
    }
  }

  @Test
  void clipAtTheSameResolutionIsCopiedAsIsAndTwinsGetTheSameValues() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict clip = clip()) {
      Map<String, Tensor> model = tinyModel(4, true, false);
      LoadReport r = ClipWeights.load(clip, model, true);
      assertEquals(List.of(), r.resized());
      String pos = "visual_encoder.visual.positional_embedding";
      assertTrue(model.get(pos).equal(clip.get("visual.positional_embedding").to(torch.ScalarType.Float)));
      assertTrue(model.get("visual_encoder_m.visual.conv1.weight").equal(model.get("visual_encoder.visual.conv1.weight")));
      assertEquals(2 * (clip.size() - 22), r.loaded().size(), "online and twin");
    }
  }

  @Test
  void clipFromSafetensorsAndStrictFailures() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict clip = clip()) {
      Path f = dir.resolve("clip.safetensors");
      Map<String, Tensor> extra = new LinkedHashMap<>(clip.asMap());
      extra.put("visual.surprise", torch.zeros(1));
      SafeTensors.write(f, extra, Map.of("format", "pt"));
      Map<String, Tensor> model = tinyModel(4, false, true);
      model.put("visual_encoder.visual.transformer.resblocks.2.ln_1.weight", torch.zeros(8)); // a layer CLIP lacks
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipWeights.load(f, model, true));
      assertTrue(e.getMessage().contains("1 missing [visual_encoder.visual.transformer.resblocks.2.ln_1.weight]"),
          e.getMessage());
      assertTrue(e.getMessage().contains("1 unexpected [visual.surprise]"), e.getMessage());
      LoadReport lenient = ClipWeights.load(f, model, false);
      assertTrue(model.get("visual_encoder.visual.ln_post.bias")
          .equal(clip.get("visual.ln_post.bias").to(torch.ScalarType.Float)));
      assertEquals(1, lenient.missing().size());
    }
  }

  /** Expected BERT source of each text parameter, written out from the layer rules (tel 2, fusion from layer 2). */
  private static String bertSource(String name) {
    String n = name.replaceFirst("^(text_encoder|text_decoder)(_m)?\\.(bert\\.)?", "");
    if (name.startsWith("fusion_encoder")) {
      String rest = name.replaceFirst("^fusion_encoder(_m)?\\.encoder\\.layer\\.", "");
      int layer = Integer.parseInt(rest.substring(0, rest.indexOf('.')));
      n = "encoder.layer." + (layer + 2) + rest.substring(rest.indexOf('.'));
    }
    if (n.startsWith("cls.")) return n.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
    return "bert." + n.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
  }

  @Test
  void bertFillsTextEncoderFusionAndDecoderWithFreshCrossAttention() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict bert = bert()) {
      Map<String, Tensor> model = tinyModel(2, false, true);
      LoadReport r = BertWeights.load(bert, model, -1, true);
      assertTrue(r.complete(), r.summary());
      assertEquals(Map.of(Rule.BERT_POOLER, 2, Rule.TIED_DECODER, 1, Rule.BERT_NSP_HEAD, 2), r.ignoredCounts());
      assertEquals(40, r.fresh().get(Rule.FRESH_CROSS_ATTENTION).size(), "2 fusion + 2 decoder layers x 10");
      assertTrue(r.fresh().get(Rule.FRESH_CROSS_ATTENTION).stream().allMatch(n -> n.contains(".crossattention.")));
      int textParams = 0;
      for (var e : model.entrySet()) {
        String name = e.getKey();
        boolean text = name.startsWith("text_") || name.startsWith("fusion_");
        if (!text) continue;
        if (name.contains(".crossattention.")) {
          assertEquals(0.0, e.getValue().abs().sum().item_double(), name + " stays fresh");
          continue;
        }
        textParams++;
        String src = bertSource(name);
        assertEquals(src, r.loaded().get(name), name);
        assertTrue(e.getValue().equal(bert.get(src)), name + " <- " + src);
      }
      assertEquals(textParams, r.loaded().size());
      assertTrue(model.get("fusion_encoder.encoder.layer.0.output.dense.weight")
          .equal(bert.get("bert.encoder.layer.2.output.dense.weight")), "fusion layer 0 = BERT layer 2");
      assertTrue(model.get("text_decoder.cls.predictions.transform.LayerNorm.weight")
          .equal(bert.get("cls.predictions.transform.LayerNorm.gamma")));
    }
  }

  @Test
  void bertFromSafetensorsWithNewLayerNormNamesAndNoTiedCopy() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict bert = bert()) {
      Map<String, Tensor> renamed = new LinkedHashMap<>();
      for (String k : bert.keys()) {
        if (k.equals("cls.predictions.decoder.weight")) continue; // safetensors stores shared tensors once
        renamed.put(k.replace(".gamma", ".weight").replace(".beta", ".bias"), bert.get(k));
      }
      Path f = dir.resolve("model.safetensors");
      SafeTensors.write(f, renamed, Map.of("format", "pt"));
      Map<String, Tensor> model = tinyModel(2, true, false); // retrieval: no decoder, momentum twins
      LoadReport r = BertWeights.load(f, model, true);
      assertTrue(r.complete(), r.summary());
      assertEquals(5, r.ignoredCounts().get(Rule.BERT_UNUSED), "cls.predictions.* without a decoder");
      assertTrue(model.get("text_encoder_m.embeddings.LayerNorm.weight")
          .equal(bert.get("bert.embeddings.LayerNorm.gamma")), "twins initialised like the online encoder");
      assertTrue(model.get("fusion_encoder_m.encoder.layer.1.intermediate.dense.bias")
          .equal(bert.get("bert.encoder.layer.3.intermediate.dense.bias")));
    }
  }

  /** Hugging Face's real bert-base-uncased pytorch_model.bin is in the legacy (pre-zip) format. */
  @Test
  void bertFromALegacyFormatPytorchModelBin() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict bert = bert()) {
      Map<String, Tensor> model = tinyModel(2, false, true);
      LoadReport r = BertWeights.load(TorchCheckpointFormatsTest.resource("bert_tiny_legacy.bin"), model, true);
      assertTrue(r.complete(), r.summary());
      assertTrue(model.get("text_decoder.bert.encoder.layer.1.attention.self.key.weight")
          .equal(bert.get("bert.encoder.layer.1.attention.self.key.weight")));
      assertTrue(model.get("fusion_encoder.encoder.layer.1.output.LayerNorm.bias")
          .equal(bert.get("bert.encoder.layer.3.output.LayerNorm.beta")));
    }
  }

  @Test
  void explicitFusionStartAndUnusedLayers() throws Exception {
    try (TensorScope s = TensorScope.open(); StateDict bert = bert()) {
      Map<String, Tensor> model = tinyModel(2, false, true);
      LoadReport r = BertWeights.load(bert, model, 1, true);
      assertTrue(model.get("fusion_encoder.encoder.layer.0.output.dense.weight")
          .equal(bert.get("bert.encoder.layer.1.output.dense.weight")));
      // fusion now takes layers 1-2: layer 3 feeds nothing
      assertEquals(16, r.ignoredCounts().get(Rule.BERT_UNUSED));
      assertArrayEquals(new long[] {16, 8}, Tensors.shape(model.get("fusion_encoder.encoder.layer.0.intermediate.dense.weight")));
    }
  }
}
