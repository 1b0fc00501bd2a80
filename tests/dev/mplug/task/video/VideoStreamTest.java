package dev.mplug.task.video;

import static dev.mplug.testing.TensorAssert.assertClose;
import static dev.mplug.testing.TensorAssert.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.EnumSet;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The visual stream of a clip, checked against the image path frame by frame. */
class VideoStreamTest {
  private static MPlug model() {
    MPlug m = new MPlug(PretrainConfig.modelConfig("model-demo").withParts(EnumSet.of(Part.VISION,
        Part.TEXT_ENCODER, Part.FUSION, Part.ITC_ITM_HEADS)));
    m.eval();
    return m;
  }

  @Test
  void everyFramesTokensInFrameOrderAndTheFrameAveragedFeature() {
    Seeds.fresh("everyFramesTokensInFrameOrderAndTheFrameAveragedFeature");
    try (TensorScope scope = TensorScope.open(); NoGradGuard g = new NoGradGuard()) {
      MPlug model = model();
      Tensor clips = torch.randn(2, 3, 3, 64, 64);                                  // [B 2, F 3, 3, R, R]
      VideoStream s = VideoStream.encode(model, clips);
      long nv = 65;                                                                  // (64 / 8)^2 patches + [CLS]
      assertArrayEquals(new long[] {2, 3 * nv, 64}, Tensors.shape(s.embeds()));
      assertEquals(3, s.frames());
      Tensor w = model.namedParameters().get("vision_proj.weight");                // [E, H]
      Tensor bias = model.namedParameters().get("vision_proj.bias");               // [E]
      Tensor projected = torch.zeros(2, 32);
      for (int f = 0; f < 3; f++) {
        Tensor frame = clips.select(1, f);                                          // [2, 3, R, R]
        Tensor alone = model.visionEmbeds(model.visionTokens(frame));               // [2, Nv, H]
        assertClose(alone, s.embeds().narrow(1, f * nv, nv), 1e-5, "frame " + f + "'s tokens, [CLS] first");
        // the official feature: vision_proj of each frame's [CLS], averaged over frames, then normalised
        projected = projected.add(alone.select(1, 0).matmul(w.t()).add(bias));
      }
      assertClose(Tensors.l2Normalize(projected, -1), s.features(model), 1e-5, "frame-averaged ITC feature");
    }
  }

  @Test
  void aClipOfOneRepeatedFrameReadsLikeTheImage() {
    Seeds.fresh("aClipOfOneRepeatedFrameReadsLikeTheImage");
    try (TensorScope scope = TensorScope.open(); NoGradGuard g = new NoGradGuard()) {
      MPlug model = model();
      Tensor image = torch.randn(1, 3, 64, 64);
      Tensor clip = torch.stack(new TensorVector(image, image, image, image), 1);  // [1, 4, 3, R, R]
      Tensor v = model.visionEmbeds(model.visionTokens(image));
      assertClose(model.imageFeatures(v), VideoStream.index(model, clip).features(), 1e-5, "ITC feature");
      Tensor swapped = torch.stack(new TensorVector(torch.randn(1, 3, 64, 64), image), 1);
      Tensor back = torch.stack(new TensorVector(swapped.select(1, 1), swapped.select(1, 0)), 1);
      assertClose(VideoStream.encode(model, swapped).features(model), VideoStream.encode(model, back).features(model),
          1e-5, "the feature is an average: frame order does not change it");
      assertTrue(maxAbsDiff(VideoStream.embeds(model, swapped), VideoStream.embeds(model, back)) > 1e-3,
          "the stream keeps the frame order");
    }
  }

  @Test
  void anImageBatchIsRefused() {
    try (TensorScope scope = TensorScope.open()) {
      MPlug model = model();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> VideoStream.encode(model, torch.zeros(2, 3, 64, 64)));
      assertEquals("video tasks take clips [B, F, 3, R, R], got a 4-d tensor", e.getMessage());
    }
  }
}
