package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.model.ConfigFile;
import dev.mplug.model.LambdaConfig;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.model.TextConfig;
import dev.mplug.model.VisionConfig;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lambda layers as a model switch: the parameters they bring, a pretraining step through them (every objective, the
 * momentum twins), the config file, and their FLOPs in the MFU estimate.
 */
class LambdaPretrainingTest {
  private static final LambdaConfig BOTH = new LambdaConfig(true, true, 4, 3);

  @TempDir Path tmp;

  @Test
  void theLambdaModelHasLambdaParametersInsteadOfAttentionOnes() {
    Map<String, Tensor> p = new MPlug(MPlugConfig.tiny().withLambda(BOTH).plus(Part.MOMENTUM)).namedParameters();
    // tiny: ViT width 32, 4 heads, 4 x 4 patches; fusion hidden 32, 4 heads, layer 2 connected
    assertEquals(List.of(4L, 1L, 1L, 3L, 3L),
        shape(p.get("visual_encoder.visual.transformer.resblocks.0.lambda.position_embedding")));
    assertEquals(List.of(16L, 32L), shape(p.get("visual_encoder.visual.transformer.resblocks.0.lambda.query.weight")));
    assertEquals(List.of(8L, 32L), shape(p.get("visual_encoder.visual.transformer.resblocks.1.lambda.value.weight")));
    assertFalse(p.containsKey("visual_encoder.visual.transformer.resblocks.0.attn.in_proj_weight"));
    assertEquals(List.of(4L, 32L), shape(p.get("fusion_encoder.encoder.layer.2.attention.self.key.weight")));
    assertFalse(p.containsKey("fusion_encoder.encoder.layer.2.attention.self.key.bias"));
    assertTrue(p.containsKey("fusion_encoder.encoder.layer.1.attention.self.key.bias"), "co-attention unchanged");
    assertTrue(p.containsKey("fusion_encoder_m.encoder.layer.2.attention.self.query.weight"), "momentum twin");
  }

  @Test
  void allFourObjectivesTrainThroughTheLambdaLayers() {
    Seeds.fresh("allFourObjectivesTrainThroughTheLambdaLayers");
    BertTokenizer tok = BertTokenizer.load(PretrainingTaskTest.vocab(tmp));
    MPlugConfig config = PretrainingTaskTest.tiny(tok.vocabulary().size()).withLambda(BOTH);
    try (TensorScope scope = TensorScope.open()) {
      MPlug model = new MPlug(config.withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER,
          Part.ITC_ITM_HEADS, Part.MOMENTUM)));
      Objectives objectives = Objectives.builder().momentum(0.9).queueSize(8).maskProbability(0.5).build();
      try (PretrainingTask task = new PretrainingTask(model, tok, objectives, 12, 5, null)) {
        List<String> captions = List.of("a red circle on the left", "a big blue square", "a small green star",
            "a red star and a blue circle");
        TokenBatch tb = tok.encodeBatch(captions, 12, Padding.LONGEST);
        PretrainBatch batch = new PretrainBatch(torch.randn(4, 3, 32, 32), tb.idsTensor(), tb.maskTensor(), captions);
        Map<String, Tensor> losses = task.losses(batch, 0);
        Tensor total = null;
        for (var e : losses.entrySet()) {
          double v = e.getValue().item_double();
          assertTrue(Double.isFinite(v) && v > 0, e.getKey() + " = " + v);
          total = total == null ? e.getValue() : total.add(e.getValue());
        }
        total.backward();
        for (String name : List.of("visual_encoder.visual.transformer.resblocks.0.lambda.position_embedding",
            "visual_encoder.visual.transformer.resblocks.1.lambda.key.weight",
            "fusion_encoder.encoder.layer.2.attention.self.query.weight",
            "fusion_encoder.encoder.layer.2.attention.self.value.weight")) {
          Tensor g = model.namedParameters().get(name).grad();
          assertTrue(g.defined() && g.abs().sum().item_double() > 0, name + " gets a gradient");
        }
      }
    }
  }

  @Test
  void theConfigFileCarriesTheSwitchAndRefusesBadValues() {
    MPlugConfig c = MPlugConfig.tiny().withLambda(new LambdaConfig(true, false, 8, 0));
    String text = ConfigFile.format(c);
    assertTrue(text.contains("lambda {"), text);
    assertEquals(c, ConfigFile.parse(text, "<round trip>"));
    assertFalse(ConfigFile.format(MPlugConfig.tiny()).contains("lambda"), "the published model's file has no section");
    MPlugConfig vision = ConfigFile.parse("preset: \"base\"\nlambda { vision: true position_window: 7 }", "x.txtpb");
    assertEquals(new LambdaConfig(false, true, 16, 7), vision.lambda());
    var e = assertThrows(IllegalArgumentException.class,
        () -> ConfigFile.parse("preset: \"tiny\"\nlambda { vision: true position_window: 4 }", "bad.txtpb"));
    assertEquals("bad.txtpb: lambda.position_window must be odd (a window centred on each patch), got 4",
        e.getMessage());
  }

  @Test
  void flopsOfALambdaLayerMatchTheHandCountAndGrowLinearly() {
    // n = 9 tokens, width 8, 2 heads of key depth 3 (value depth 4), positions on 4 tokens in a 3 x 3 window, FFN 16:
    //   projections q (6), k (3), v (4):   2 * 9 * 8 * 13           = 1872
    //   content lambda and its use:        2 * 9 * 3 * 4 + 2 * 9 * 2 * 3 * 4 = 216 + 432 = 648
    //   position lambdas and their use:    2 * 4 * 9 * 3 * 4 + 2 * 4 * 2 * 3 * 4 = 864 + 192 = 1056
    //   output projection:                 2 * 9 * 8 * 8            = 1152
    //   FFN:                               2 * 2 * 9 * 8 * 16       = 4608
    assertEquals(1872 + 648 + 1056 + 1152 + 4608, PretrainFlops.lambdaLayer(9, 8, 2, 3, 4, 3, 16), 0.0);
    // the connected layer at base size: attention is quadratic in the visual tokens, the lambda layer linear
    TextConfig t = TextConfig.bertBase(3);
    LambdaConfig fusion = new LambdaConfig(true, false, 16, 0);
    double attention257 = PretrainFlops.fusion(t, 25, 257), attention1025 = PretrainFlops.fusion(t, 25, 1025);
    double lambda257 = PretrainFlops.fusion(t, 25, 257, fusion), lambda1025 = PretrainFlops.fusion(t, 25, 1025, fusion);
    assertTrue(lambda257 < attention257, lambda257 + " < " + attention257);
    double connectedAttention = attention1025 - 5 * PretrainFlops.coAttentionLayer(t, 25, 1025)
        - (attention257 - 5 * PretrainFlops.coAttentionLayer(t, 25, 257));
    double connectedLambda = lambda1025 - 5 * PretrainFlops.coAttentionLayer(t, 25, 1025)
        - (lambda257 - 5 * PretrainFlops.coAttentionLayer(t, 25, 257));
    // growth of the connected layer alone from 282 to 1050 tokens: linear (x 3.72) for lambda, more for attention
    assertEquals((1050.0 - 282) / 282, connectedLambda / PretrainFlops.lambdaLayer(282, 768, 12, 16, 0, 0, 3072),
        1e-9);
    assertTrue(connectedAttention > connectedLambda * 1.1, connectedAttention + " vs " + connectedLambda);
    // the ViT with position lambdas costs less than with attention, at B/16 and 384 px
    VisionConfig vit = VisionConfig.vitB16();
    assertTrue(PretrainFlops.vision(vit, new LambdaConfig(false, true, 16, 7))
        < PretrainFlops.vision(vit, LambdaConfig.NONE));
  }

  private static List<Long> shape(Tensor t) {
    return Arrays.stream(Tensors.shape(t)).boxed().toList();
  }
}
