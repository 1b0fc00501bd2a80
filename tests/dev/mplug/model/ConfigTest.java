package dev.mplug.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Presets carry the spec's sizes; the config file format; validation errors name the key (and the file). */
class ConfigTest {
  @TempDir Path dir;

  private static void assertFailsNaming(String key, Runnable r) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    assertTrue(e.getMessage().contains(key), "message names " + key + ": " + e.getMessage());
  }

  @Test
  void presetsCarryTheSpecSizes() {
    MPlugConfig base = MPlugConfig.base();
    assertEquals(577, base.vision().tokens(), "ViT-B/16 at 384 px");
    assertEquals(768, base.vision().width());
    assertEquals(12, base.vision().layers());
    assertEquals(3072, base.vision().mlpWidth());
    assertEquals(3, base.text().strideLayer());
    assertFalse(base.largeProjection());
    assertEquals(30522, base.text().vocab());
    assertEquals(6, base.text().textEncoderLayers());
    assertEquals(6, base.text().fusionLayers());
    assertEquals(12, base.text().decoderLayers());
    assertEquals(256, base.embedDim());
    MPlugConfig large = MPlugConfig.large();
    assertEquals(577, large.vision().tokens(), "ViT-L/14 at 336 px");
    assertEquals(1024, large.vision().width());
    assertEquals(24, large.vision().layers());
    assertEquals(16, large.vision().heads());
    assertTrue(large.largeProjection(), "1024 -> 768 projection");
    assertEquals(6, large.text().strideLayer());
    for (int n = 0; n < 6; n++) assertFalse(large.text().isConnected(n), "stride 6: no connected layer");
    assertTrue(base.text().isConnected(3));
    assertFalse(base.text().isConnected(0));
    assertEquals(1.0, GenerationConfig.caption().lengthPenalty(1), 0, "((5 + 1) / 6)^0.6");
    assertEquals(Math.pow(10.0 / 6.0, 0.6), GenerationConfig.caption().lengthPenalty(5), 1e-15);
  }

  @Test
  void validationNamesTheKey() {
    assertFailsNaming("text.hidden_size", () -> new TextConfig(770, 12, 3072, 30522, 512, 2, 1e-12, 0.1, 0.1, 6, 6, 3,
        12, 0));
    assertFailsNaming("vision.image_res", () -> new VisionConfig(385, 16, 768, 12, 12, 4, 0.1));
    assertFailsNaming("text.stride_layer", () -> TextConfig.bertBase(0));
    assertFailsNaming("vision.width", () -> new VisionConfig(384, 16, 770, 12, 12, 4, 0.1));
    assertFailsNaming("text.hidden_dropout_prob", () -> new TextConfig(768, 12, 3072, 30522, 512, 2, 1e-12, 1.5, 0.1,
        6, 6, 3, 12, 0));
    assertFailsNaming("generation.min_length", () -> new GenerationConfig(5, 11, 10, 101, 102, 0.6));
    assertFailsNaming("generation.end_token", () -> MPlugConfig.tiny().withGeneration(
        new GenerationConfig(3, 1, 5, 101, 500, 0.6)));
    assertFailsNaming("heads.temp", () -> new MPlugConfig(VisionConfig.vitB16(), TextConfig.bertBase(3), 256, 0.9,
        GenerationConfig.vqa(), Part.all()));
    assertFailsNaming("FUSION needs TEXT_ENCODER", () -> MPlugConfig.tiny().withParts(Set.of(Part.VISION,
        Part.FUSION)));
  }

  @Test
  void configFileOverridesAPresetAndRoundTrips() throws Exception {
    Path f = dir.resolve("model.txtpb");
    Files.writeString(f, """
        # mPLUG-base with two connected layers
        preset: "base"
        text { stride_layer: 2 }
        vision { image_res: 256 }
        parts: [VISION, TEXT_ENCODER, FUSION, DECODER]
        """);
    MPlugConfig c = MPlugConfig.read(f);
    assertEquals(2, c.text().strideLayer());
    assertEquals(257, c.vision().tokens());
    assertEquals(768, c.text().hidden(), "from the preset");
    assertEquals(Part.vqa(), c.parts());
    assertEquals(c, ConfigFile.parse(ConfigFile.format(c), "<round trip>"));
    assertEquals(MPlugConfig.tiny(), ConfigFile.parse(ConfigFile.format(MPlugConfig.tiny()), "<tiny>"));
  }

  @Test
  void fileErrorsNameTheFileAndTheKey() throws Exception {
    Path unknown = dir.resolve("unknown.txtpb");
    Files.writeString(unknown, "preset: \"tiny\"\ntext { hiden_size: 64 }\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MPlugConfig.read(unknown));
    assertTrue(e.getMessage().contains("unknown.txtpb") && e.getMessage().contains("hiden_size"), e.getMessage());

    Path bad = dir.resolve("bad.txtpb");
    Files.writeString(bad, "preset: \"base\"\ntext { num_attention_heads: 10 }\n");
    e = assertThrows(IllegalArgumentException.class, () -> MPlugConfig.read(bad));
    assertTrue(e.getMessage().contains("bad.txtpb") && e.getMessage().contains("text.num_attention_heads"),
        e.getMessage());

    Path incomplete = dir.resolve("incomplete.txtpb");
    Files.writeString(incomplete, "vision { width: 64 }\n");
    e = assertThrows(IllegalArgumentException.class, () -> MPlugConfig.read(incomplete));
    assertTrue(e.getMessage().contains("incomplete.txtpb") && e.getMessage().contains("vision.image_res is missing"),
        e.getMessage());

    Path preset = dir.resolve("preset.txtpb");
    Files.writeString(preset, "preset: \"huge\"\n");
    e = assertThrows(IllegalArgumentException.class, () -> MPlugConfig.read(preset));
    assertTrue(e.getMessage().contains("preset") && e.getMessage().contains("huge"), e.getMessage());
  }

  @Test
  void fixtureConfigsParseAndAreChecked() throws Exception {
    Path root = Path.of("tests/fixtures/mplug-official");
    FixtureConfig vqa = FixtureConfig.read(root.resolve("vqa-base-stride3/config.json"));
    assertEquals("vqa", vqa.task());
    assertEquals(7, vqa.instantiatedFusionLayers());
    assertEquals(3, vqa.text().strideLayer());
    assertEquals(17, vqa.vision().tokens());
    assertEquals(new GenerationConfig(3, 1, 5, 101, 102, 0.6), vqa.generation());
    assertEquals(Part.vqa(), vqa.model().parts());
    MPlugConfig retrieval = MPlugConfig.fromFixtureJson(root.resolve("retrieval-large-stride6/config.json"));
    assertTrue(retrieval.largeProjection());
    assertEquals(32, retrieval.embedDim());
    assertEquals(Part.retrieval(), retrieval.parts());
    FixtureConfig fusion = FixtureConfig.read(root.resolve("fusion-stride2/config.json"));
    assertEquals(null, fusion.vision());
    assertEquals(2, fusion.text().strideLayer());

    // a fixture whose layer pattern disagrees with the stride rule is refused, naming the key
    String json = Files.readString(root.resolve("fusion-stride2/config.json")).replace("\"stride_layer\": 2",
        "\"stride_layer\": 3");
    Path mutated = dir.resolve("config.json");
    Files.writeString(mutated, json);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FixtureConfig.read(mutated));
    assertTrue(e.getMessage().contains("fusion_layer_pattern"), e.getMessage());
  }
}
