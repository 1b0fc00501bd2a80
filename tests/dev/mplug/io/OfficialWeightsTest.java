package dev.mplug.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mplug.nn.PositionTables;
import dev.mplug.torch.TensorScope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The official-name mapping on the four official fixture checkpoints, against targets built from the contract. */
@SuppressWarnings("try") // tensor scopes free memory by being open
class OfficialWeightsTest {
  private static final Pattern FUSION = Pattern.compile("(fusion_encoder(?:_m)?\\.)?encoder\\.layer\\.(\\d+)\\.(.+)");

  private static StateDict checkpoint(String fixture) throws Exception {
    return TorchCheckpoint.readStateDict(Fixtures.dir(fixture).resolve("model.pth"));
  }

  private static OfficialWeights.Options optionsFor(String fixture) {
    OfficialWeights.Options o = OfficialWeights.Options.defaults();
    return fixture.equals("fusion-stride2") ? o.withModulePrefix("fusion_encoder.") : o;
  }

  /** The checkpoint key a contract name is loaded from: fusion layer n <- official layer start + n, else the same. */
  private static String officialKey(String name, int fusionStart, boolean bareFusion) {
    Matcher m = FUSION.matcher(name);
    if (m.matches() && (bareFusion || m.group(1) != null)) {
      return (m.group(1) == null ? "" : m.group(1)) + "encoder.layer." + (Integer.parseInt(m.group(2)) + fusionStart)
          + "." + m.group(3);
    }
    return name;
  }

  /** config.json names its rules in words; these are the keywords that identify each. */
  private static Rule ruleOf(String description) {
    Map<String, Rule> byKeyword = Map.of("CLIP text tower", Rule.CLIP_TEXT_TOWER, "visual.proj", Rule.CLIP_PROJ,
        "fusion embeddings", Rule.FUSION_EMBEDDINGS, "dead fusion layers", Rule.DEAD_FUSION_LAYERS,
        "position_ids", Rule.POSITION_IDS, "momentum twins", Rule.MOMENTUM_TWINS, "ITC training queues",
        Rule.ITC_QUEUES, "text encoder and fusion network", Rule.ABSENT_ENCODERS);
    List<Rule> hits = byKeyword.entrySet().stream().filter(e -> description.contains(e.getKey()))
        .map(Map.Entry::getValue).toList();
    assertEquals(1, hits.size(), "one rule for '" + description + "': " + hits);
    return hits.get(0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"vqa-base-stride3", "retrieval-large-stride6", "caption-base", "fusion-stride2"})
  void everyKeyIsLoadedOrIgnoredByTheDocumentedRule(String fixture) throws Exception {
    JsonNode cfg = Fixtures.config(fixture);
    JsonNode ckpt = cfg.get("checkpoint");
    int start = cfg.get("text").get("fusion_start_layer").asInt();
    boolean bare = fixture.equals("fusion-stride2");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint(fixture)) {
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      LoadReport report = OfficialWeights.load(sd, target, optionsFor(fixture));

      assertEquals(List.of(), report.missing(), "missing");
      assertEquals(List.of(), report.unexpected(), "unexpected");
      assertEquals(target.size(), report.loaded().size(), "every parameter loaded");
      Map<Rule, Integer> expected = new LinkedHashMap<>();
      ckpt.get("unused_keys_by_rule").properties().forEach(e -> expected.put(ruleOf(e.getKey()), e.getValue().asInt()));
      if (ckpt.has("tied_keys")) expected.put(Rule.TIED_DECODER, ckpt.get("tied_keys").size());
      assertEquals(expected, report.ignoredCounts(), "ignored groups\n" + report.summary());
      assertEquals(ckpt.get("keys").asInt(), report.loaded().size() + report.ignoredTotal(), "every key accounted for");

      for (var e : target.entrySet()) {
        String key = officialKey(e.getKey(), start, bare);
        assertEquals(key, report.loaded().get(e.getKey()), "source of " + e.getKey());
        assertTrue(e.getValue().equal(sd.get(key)), e.getKey() + " holds the values of " + key);
      }
    }
  }

  @Test
  void twinsLoadIntoTheMomentumNamesAndNeverIntoTheOnlineOnes() throws Exception {
    JsonNode cfg = Fixtures.config("retrieval-large-stride6");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("retrieval-large-stride6")) {
      // without momentum encoders in the model: twins ignored, online names get online values
      Map<String, Tensor> online = ContractNames.forFixture(cfg, false);
      LoadReport r1 = OfficialWeights.load(sd, online, OfficialWeights.Options.defaults());
      for (var e : r1.loaded().entrySet()) {
        assertFalse(e.getValue().split("\\.")[0].endsWith("_m"), e.getKey() + " loaded from twin " + e.getValue());
      }
      String conv = "visual_encoder.visual.conv1.weight";
      assertTrue(online.get(conv).equal(sd.get(conv)));
      assertFalse(online.get(conv).equal(sd.get("visual_encoder_m.visual.conv1.weight")));

      // with momentum encoders: every twin lands in its own _m name
      Map<String, Tensor> both = ContractNames.forFixture(cfg, true);
      LoadReport r2 = OfficialWeights.load(sd, both, OfficialWeights.Options.defaults());
      assertTrue(r2.complete(), r2.summary());
      assertFalse(r2.ignored().containsKey(Rule.MOMENTUM_TWINS));
      for (var e : r2.loaded().entrySet()) {
        boolean twinTarget = e.getKey().split("\\.")[0].endsWith("_m");
        boolean twinSource = e.getValue().split("\\.")[0].endsWith("_m");
        assertEquals(twinTarget, twinSource, e.getKey() + " <- " + e.getValue());
        assertTrue(both.get(e.getKey()).equal(sd.get(e.getValue())), e.getKey());
      }
      assertTrue(both.get(conv).equal(sd.get(conv)));
      assertTrue(both.get("visual_encoder_m.visual.conv1.weight").equal(sd.get("visual_encoder_m.visual.conv1.weight")));
      assertTrue(both.get("fusion_encoder_m.encoder.layer.0.attention.self.query.weight")
          .equal(sd.get("fusion_encoder_m.encoder.layer.0.attention.self.query.weight")));
      // twins of ignored keys follow the same rules as the online ones
      assertEquals(2 * 18, r2.ignoredCounts().get(Rule.CLIP_TEXT_TOWER));
    }
  }

  @Test
  void strictModeFailsOnMissingAndUnexpectedBeforeLoadingAnything() throws Exception {
    JsonNode cfg = Fixtures.config("retrieval-large-stride6");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("retrieval-large-stride6")) {
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      target.remove("itm_head.weight");             // -> checkpoint key unexpected
      target.put("extra_head.weight", torch.zeros(3)); // -> missing
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OfficialWeights.load(sd, target, OfficialWeights.Options.defaults()));
      assertTrue(e.getMessage().contains("1 missing [extra_head.weight]"), e.getMessage());
      assertTrue(e.getMessage().contains("1 unexpected [itm_head.weight]"), e.getMessage());
      assertTrue(e.getMessage().startsWith(sd.origin()), e.getMessage());
      assertEquals(0.0, target.get("temp").abs().item_double(), "nothing loaded");

      LoadReport lenient = OfficialWeights.load(sd, target, OfficialWeights.Options.defaults().withStrict(false));
      assertEquals(List.of("extra_head.weight"), lenient.missing());
      assertEquals(List.of("itm_head.weight"), lenient.unexpected());
      assertEquals(cfg.get("temp").asDouble(), target.get("temp").item_double(), 1e-6, "lenient load copies");
      assertTrue(lenient.summary().contains("unexpected: 1 [itm_head.weight]"), lenient.summary());
    }
  }

  @Test
  void shapeMismatchNamesKeyAndBothShapesAndLoadsNothing() throws Exception {
    JsonNode cfg = Fixtures.config("vqa-base-stride3");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("vqa-base-stride3")) {
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      target.put("text_encoder.encoder.layer.1.intermediate.dense.weight", torch.zeros(100, 64));
      for (boolean strict : new boolean[] {true, false}) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> OfficialWeights.load(sd, target, OfficialWeights.Options.defaults().withStrict(strict)));
        assertTrue(e.getMessage().contains("key 'text_encoder.encoder.layer.1.intermediate.dense.weight' has shape "
            + "[128, 64] but model parameter 'text_encoder.encoder.layer.1.intermediate.dense.weight' has shape "
            + "[100, 64]"), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was loaded"));
        assertEquals(0.0, target.get("text_encoder.embeddings.LayerNorm.weight").abs().sum().item_double());
      }
    }
  }

  @Test
  void dtypesConvertWithinAKindOnly() throws Exception {
    JsonNode cfg = Fixtures.config("fusion-stride2");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("fusion-stride2")) {
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      String name = "encoder.layer.0.output.dense.weight";
      target.put(name, torch.zeros(64, 128).to(torch.ScalarType.Half));
      OfficialWeights.load(sd, target, optionsFor("fusion-stride2"));
      Tensor expected = sd.get("encoder.layer.1.output.dense.weight").to(torch.ScalarType.Half);
      assertTrue(target.get(name).equal(expected), "float32 -> float16");

      target.put(name, torch.zeros(64, 128).to(torch.ScalarType.Long));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OfficialWeights.load(sd, target, optionsFor("fusion-stride2")));
      assertTrue(e.getMessage().contains("is F32 but model parameter '" + name + "' is I64"), e.getMessage());
    }
  }

  @Test
  void parametersThatRequireGradStayLeavesAndGradModeIsRestored() throws Exception {
    JsonNode cfg = Fixtures.config("fusion-stride2");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("fusion-stride2")) {
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      target.values().forEach(t -> t.set_requires_grad(true));
      assertTrue(GradMode.is_enabled());
      OfficialWeights.load(sd, target, optionsFor("fusion-stride2"));
      assertTrue(GradMode.is_enabled(), "grad mode restored");
      Tensor q = target.get("encoder.layer.2.attention.self.query.weight");
      assertTrue(q.is_leaf() && q.requires_grad());
      assertTrue(q.equal(sd.get("encoder.layer.3.attention.self.query.weight")));
    }
  }

  @Test
  void positionTableIsResampledToTheModelsGrid() throws Exception {
    JsonNode cfg = Fixtures.config("vqa-base-stride3");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("vqa-base-stride3")) {
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      String pos = "visual_encoder.visual.positional_embedding";
      target.put(pos, torch.zeros(1 + 6 * 6, 64)); // a 48 px model instead of 32 px: grid 6 instead of 4
      LoadReport r = OfficialWeights.load(sd, target, OfficialWeights.Options.defaults());
      assertEquals(List.of(pos + " [17, 64] -> [37, 64]"), r.resized());
      assertTrue(target.get(pos).equal(PositionTables.resize(sd.get(pos), 6)));
      assertTrue(target.get(pos).get(0).equal(sd.get(pos).get(0)), "CLS row kept");
    }
  }

  /** The same checkpoint under pretrained names and a DDP prefix loads identically. */
  @Test
  void pretrainedAndDistributedNamesAreRecognised() throws Exception {
    JsonNode cfg = Fixtures.config("vqa-base-stride3");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("vqa-base-stride3")) {
      Map<String, Tensor> renamed = new LinkedHashMap<>();
      for (String k : sd.keys()) {
        String n = k.startsWith("text_encoder.") ? "text_encoder.bert." + k.substring(13)
            : k.startsWith("fusion_encoder.") ? "fusion_encoder.fusion." + k.substring(15) : k;
        renamed.put("module." + n, sd.get(k));
      }
      StateDict pretrained = new StateDict(renamed, Map.of(), "pretrained.pth");
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      LoadReport r = OfficialWeights.load(pretrained, target,
          OfficialWeights.Options.defaults().withSourcePrefix("module."));
      assertTrue(r.complete(), r.summary());
      assertEquals("module.fusion_encoder.fusion.encoder.layer.1.attention.self.query.weight",
          r.loaded().get("fusion_encoder.encoder.layer.0.attention.self.query.weight"));
      assertTrue(target.get("text_encoder.encoder.layer.0.output.dense.bias")
          .equal(sd.get("text_encoder.encoder.layer.0.output.dense.bias")));
    }
  }

  @Test
  void untiedDecoderWeightsAreAnError() throws Exception {
    JsonNode cfg = Fixtures.config("caption-base");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("caption-base")) {
      Map<String, Tensor> changed = new LinkedHashMap<>(sd.asMap());
      String key = "text_decoder.cls.predictions.decoder.weight";
      changed.put(key, sd.get(key).add(new Scalar(1.0)));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OfficialWeights.load(
          new StateDict(changed, Map.of(), "untied.pth"), ContractNames.forFixture(cfg, false),
          OfficialWeights.Options.defaults()));
      assertTrue(e.getMessage().contains("'" + key + "' differs from 'text_decoder.bert.embeddings.word_embeddings"
          + ".weight', but the model ties them"), e.getMessage());
    }
  }

  @Test
  void explicitFusionStartLayerOverridesTheInference() throws Exception {
    JsonNode cfg = Fixtures.config("vqa-base-stride3");
    try (TensorScope s = TensorScope.open(); StateDict sd = checkpoint("vqa-base-stride3")) {
      Map<String, Tensor> target = ContractNames.forFixture(cfg, false);
      // start 0 would run the first six layers: layer 6 has no place and layer 0 is no longer dead
      LoadReport r = OfficialWeights.load(sd, target,
          OfficialWeights.Options.defaults().withFusionStartLayer(0).withStrict(false));
      assertEquals(26, r.unexpected().size(), r.summary());
      assertTrue(r.unexpected().stream().allMatch(k -> k.startsWith("fusion_encoder.encoder.layer.6.")));
      assertFalse(r.ignored().containsKey(Rule.DEAD_FUSION_LAYERS));
    }
  }
}
