package dev.mplug.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Whole-model behaviour on the tiny config: eval determinism, dropout in training, masks, heads, losses, errors. */
class MPlugTest {
  private static final Tensor IDS = ids(new long[] {101, 5, 9, 17, 102, 0, 0, 101, 33, 44, 55, 66, 77, 102}, 2, 7);
  private static final Tensor MASK = ids(new long[] {1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1}, 2, 7);

  private static Tensor ids(long[] v, long... shape) {
    TorchRuntime.load();
    return Tensors.longs(v, shape);
  }

  private static float[] forwardAll(MPlug m, Tensor images, Tensor ids) {
    Tensor v = m.visionEmbeds(m.visionTokens(images));
    Tensor l = m.textEmbeds(ids, MASK);
    SkipConnectedFusion.Output f = m.fuse(l, MASK, v, MPlug.imageMask(v));
    return Tensors.toFloats(m.itmLogits(f.text()));
  }

  @Test
  void evalIsDeterministicAndTrainingDropsOut() {
    Seeds.fresh("eval determinism");
    MPlug m = new MPlug(MPlugConfig.tiny().withVision(new VisionConfig(32, 8, 48, 2, 4, 4, 0.1)));
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      Tensor images = torch.randn(2, 3, 32, 32);
      m.eval();
      float[] a = forwardAll(m, images, IDS);
      assertArrayEquals(a, forwardAll(m, images, IDS), 0f, "eval twice");
      m.train(true);
      float[] b = forwardAll(m, images, IDS);
      float[] c = forwardAll(m, images, IDS);
      assertTrue(!Arrays.equals(b, c), "train mode: dropout makes two runs differ");
      assertTrue(!Arrays.equals(a, b), "train differs from eval");
      m.eval();
      assertArrayEquals(a, forwardAll(m, images, IDS), 0f, "back in eval");
    }
  }

  /**
   * The configured attention-probability dropout reaches every stack: with hidden dropout 0, training mode is random
   * in the ViT, text encoder, fusion and decoder exactly when attention dropout is configured.
   */
  @Test
  void configuredAttentionDropoutReachesEveryStack() {
    Seeds.fresh("configuredAttentionDropoutReachesEveryStack");
    for (double p : new double[] {0.0, 0.5}) {
      MPlugConfig tiny = MPlugConfig.tiny();
      TextConfig t = tiny.text();
      MPlug m = new MPlug(tiny.withVision(new VisionConfig(32, 8, 32, 2, 4, 4, p)).withText(new TextConfig(t.hidden(),
          t.heads(), t.intermediate(), t.vocab(), t.maxPositions(), t.typeVocab(), t.layerNormEps(), 0.0, p,
          t.textEncoderLayers(), t.fusionLayers(), t.strideLayer(), t.decoderLayers(), t.padTokenId())));
      m.train(true);
      try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
        Tensor images = torch.randn(2, 3, 32, 32);
        Tensor v = m.visionEmbeds(m.visionTokens(images));
        Tensor l = m.textEmbeds(IDS, MASK);
        java.util.function.Supplier<Tensor[]> stacks = () -> {
          SkipConnectedFusion.Output f = m.fuse(l, MASK, v, MPlug.imageMask(v));
          return new Tensor[] {m.visionTokens(images), m.textEmbeds(IDS, MASK), f.text(),
              m.decoder().forward(IDS, MASK, f.text(), MASK)};
        };
        Tensor[] first = stacks.get();
        Tensor[] second = stacks.get();
        String[] names = {"visual_encoder", "text_encoder", "fusion_encoder", "text_decoder"};
        for (int i = 0; i < names.length; i++) {
          boolean differ = !java.util.Arrays.equals(Tensors.toFloats(first[i]), Tensors.toFloats(second[i]));
          assertEquals(p > 0, differ, names[i] + " in training with attention dropout " + p);
        }
      }
    }
  }

  @Test
  void paddedIdsDoNotChangeRealPositions() {
    Seeds.fresh("padding invariance");
    MPlug m = new MPlug(MPlugConfig.tiny());
    m.eval();
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      Tensor other = IDS.clone();
      other.select(0, 0).narrow(0, 5, 2).copy_(ids(new long[] {88, 99}, 2));
      Tensor a = m.textEmbeds(IDS, MASK);
      Tensor b = m.textEmbeds(other, MASK);
      assertArrayEquals(Tensors.toFloats(a.select(0, 0).narrow(0, 0, 5)),
          Tensors.toFloats(b.select(0, 0).narrow(0, 0, 5)), 0f, "real positions bit-identical");
      assertArrayEquals(Tensors.toFloats(a.select(0, 1)), Tensors.toFloats(b.select(0, 1)), 0f, "other row");
      assertTrue(a.select(0, 0).select(0, 6).sub(b.select(0, 0).select(0, 6)).abs().max().item_double() > 1e-3,
          "the padded position itself is computed from its id");
    }
  }

  @Test
  void contrastiveFeaturesAreUnitVectorsAndSimilaritiesDivideByTemp() {
    Seeds.fresh("itc");
    MPlug m = new MPlug(MPlugConfig.tiny());
    m.eval();
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      Tensor v = m.visionEmbeds(m.visionTokens(torch.randn(2, 3, 32, 32)));
      Tensor l = m.textEmbeds(IDS, MASK);
      Tensor fi = m.imageFeatures(v);
      Tensor ft = m.textFeatures(l);
      assertArrayEquals(new long[] {2, 16}, Tensors.shape(fi));
      float[] norms = Tensors.toFloats(fi.mul(fi).sum(new long[] {1}, false, new ScalarTypeOptional()));
      assertArrayEquals(new float[] {1f, 1f}, norms, 1e-5f);
      float[] sim = Tensors.toFloats(m.similarity(fi, ft));
      float[] a = Tensors.toFloats(fi);
      float[] b = Tensors.toFloats(ft);
      double dot = 0;
      for (int e = 0; e < 16; e++) dot += a[e] * b[16 + e];   // image 0 . text 1
      assertEquals(dot / 0.07, sim[1], 1e-4);
      assertArrayEquals(new long[] {2, 2}, Tensors.shape(m.itmLogits(m.fuse(l, MASK, v, MPlug.imageMask(v)).text())));
    }
  }

  @Test
  void temperatureIsClampedToTheTrainingRange() {
    MPlug m = new MPlug(MPlugConfig.tiny());
    try (NoGradGuard _ = new NoGradGuard()) {
      m.temperature().fill_(new Scalar(0.9));
      m.clampTemperature();
      assertEquals(0.5, m.temperature().item_double(), 1e-7);
      m.temperature().fill_(new Scalar(1e-5));
      m.clampTemperature();
      assertEquals(0.001, m.temperature().item_double(), 1e-7);
    }
  }

  @Test
  void badInputsNameTheModuleAndShapes() {
    MPlug m = new MPlug(MPlugConfig.tiny().withParts(Part.caption()));
    try (TensorScope _ = TensorScope.open()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> m.visionTokens(torch.randn(1, 3, 64, 64)));
      assertTrue(e.getMessage().contains("visual_encoder.visual") && e.getMessage().contains("[*, 3, 32, 32]")
          && e.getMessage().contains("[1, 3, 64, 64]"), e.getMessage());
      IllegalArgumentException floatIds = assertThrows(IllegalArgumentException.class,
          () -> m.decoder().forward(torch.ones(1, 3), null, torch.randn(1, 17, 32), torch.ones(1, 17)));
      assertTrue(floatIds.getMessage().contains("embeddings") && floatIds.getMessage().contains("Float"),
          floatIds.getMessage());
      IllegalStateException missing = assertThrows(IllegalStateException.class, () -> m.textEmbeds(IDS, MASK));
      assertTrue(missing.getMessage().contains("TEXT_ENCODER"), missing.getMessage());
      Map<String, Tensor> w = new HashMap<>(m.namedParameters());
      w.put("text_decoder.cls.predictions.bias", torch.zeros(7));
      e = assertThrows(IllegalArgumentException.class, () -> m.load(w, true));
      assertTrue(e.getMessage().contains("text_decoder.cls.predictions.bias") && e.getMessage().contains("[128]")
          && e.getMessage().contains("[7]"), e.getMessage());
    }
  }
}
