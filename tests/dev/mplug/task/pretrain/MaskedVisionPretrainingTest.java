package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.loss.MaskedVisionModeling.MaskShape;
import dev.mplug.loss.MaskedVisionModeling.Target;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Masked vision modeling as a fifth objective: its loss, weight, gradients, parameters and config keys. */
class MaskedVisionPretrainingTest {
  @TempDir Path tmp;

  private record Step(Map<String, Double> losses, Map<String, Tensor> grads) {}

  /**
   * One pretraining step of the tiny model with {@code mvm} from libtorch seed {@code seed}; the losses and the named
   * gradients after backward.
   */
  private Step step(MaskedVisionSettings mvm, List<String> gradNames, long seed) {
    TorchRuntime.seed(seed);
    BertTokenizer tok = BertTokenizer.load(PretrainingTaskTest.vocab(tmp));
    MPlugConfig config = PretrainingTaskTest.tiny(tok.vocabulary().size());
    MPlug model = new MPlug(config.withParts(
        EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS)));
    Objectives objectives = Objectives.builder().momentum(0.9).queueSize(8).maskProbability(0.5).mvm(mvm).build();
    try (PretrainingTask task = new PretrainingTask(model, tok, objectives, 12, 5, null)) {
      List<String> captions = List.of("a red circle on the left", "a big blue square", "a small green star",
          "a red star and a blue circle");
      TokenBatch tb = tok.encodeBatch(captions, 12, Padding.LONGEST);
      PretrainBatch batch = new PretrainBatch(torch.randn(4, 3, 32, 32), tb.idsTensor(), tb.maskTensor(), captions);
      Map<String, Tensor> losses = task.losses(batch, 0);
      Tensor total = null;
      for (Tensor l : losses.values()) total = total == null ? l : total.add(l);
      total.backward();
      Map<String, Double> values = new LinkedHashMap<>();
      losses.forEach((k, v) -> values.put(k, v.item_double()));
      Map<String, Tensor> params = task.parameters();
      Map<String, Tensor> grads = new LinkedHashMap<>();
      for (String name : gradNames) grads.put(name, params.get(name).grad());
      return new Step(values, grads);
    }
  }

  @Test
  void bothTargetsTrainTheMaskEmbeddingThePredictorAndTheViT() {
    List<String> names = List.of("mvm_head.mask_embedding", "mvm_head.predictor.weight",
        "visual_encoder.visual.conv1.weight", "fusion_encoder.encoder.layer.2.attention.self.query.weight");
    long seed = Seeds.fresh("bothTargetsTrainTheMaskEmbeddingThePredictorAndTheViT");
    for (Target target : Target.values()) {
      try (TensorScope _ = TensorScope.open()) {
        Step s = step(new MaskedVisionSettings(1.0, 0.5, MaskShape.BLOCK, target), names, seed);
        assertEquals(List.of("itc", "itm", "mlm", "prefix_lm", "mvm"), List.copyOf(s.losses().keySet()));
        double mvm = s.losses().get("mvm");
        assertTrue(Double.isFinite(mvm) && mvm > 0.1, target + ": mvm " + mvm);
        for (var e : s.grads().entrySet()) {
          assertTrue(e.getValue().defined() && e.getValue().abs().sum().item_double() > 0,
              target + ": " + e.getKey() + " gets a gradient");
        }
      }
    }
  }

  @Test
  void theWeightScalesTheLossAndOffMeansNoHeadAndNoLoss() {
    long seed = Seeds.fresh("theWeightScalesTheLossAndOffMeansNoHeadAndNoLoss");
    try (TensorScope _ = TensorScope.open()) {
      double one = step(new MaskedVisionSettings(1.0, 0.5, MaskShape.RANDOM, Target.PIXELS), List.of(), seed)
          .losses().get("mvm");
      double three = step(new MaskedVisionSettings(3.0, 0.5, MaskShape.RANDOM, Target.PIXELS), List.of(), seed)
          .losses().get("mvm");
      assertEquals(3 * one, three, 1e-5 * three, "same seed, same masks: the weight multiplies the loss");
      Step off = step(MaskedVisionSettings.OFF, List.of(), seed);
      assertEquals(List.of("itc", "itm", "mlm", "prefix_lm"), List.copyOf(off.losses().keySet()));
    }
  }

  @Test
  void theConfigKeysReachTheSettingsAndBadValuesAreNamed() {
    PretrainConfig c = PretrainConfig.load("pretrain-demo", List.of("objectives.mvm_weight=0.5",
        "objectives.mvm_target=pixels", "objectives.mvm_mask=random", "objectives.mvm_mask_ratio=0.25"));
    assertEquals(new MaskedVisionSettings(0.5, 0.25, MaskShape.RANDOM, Target.PIXELS), c.objectives().mvm());
    assertEquals(MaskedVisionSettings.OFF, PretrainConfig.load("pretrain-demo", List.of()).objectives().mvm());
    var e = assertThrows(IllegalArgumentException.class,
        () -> PretrainConfig.load("pretrain-demo", List.of("objectives.mvm_target=edges")));
    assertEquals("pretrain-demo: objectives.mvm_target = \"edges\": use pixels or momentum_features", e.getMessage());
    var ratio = assertThrows(IllegalArgumentException.class,
        () -> PretrainConfig.load("pretrain-demo", List.of("objectives.mvm_mask_ratio=1")));
    assertEquals("pretrain-demo: objectives.mvm_mask_ratio = 1.0: must be in (0, 1)", ratio.getMessage());
  }

  @Test
  void theFlopEstimateCountsTheMaskedPass() {
    MPlugConfig c = MPlugConfig.tiny();
    Objectives plain = Objectives.builder().build();
    Objectives withMvm = plain.toBuilder()
        .mvm(new MaskedVisionSettings(1, 0.4, MaskShape.BLOCK, Target.MOMENTUM_FEATURES)).build();
    double extra = PretrainFlops.estimate(c, 12, withMvm) - PretrainFlops.estimate(c, 12, plain);
    // x3 (forward + backward) of: the ViT, the fusion over 12 text tokens and 17 visual ones, the predictor 32 -> 32
    // on 16 patches
    double expected = 3 * (PretrainFlops.vision(c.vision(), c.lambda()) + PretrainFlops.fusion(c.text(), 12, 17)
        + 2.0 * 16 * 32 * 32);
    assertEquals(expected, extra, 1e-6 * expected);
  }
}
