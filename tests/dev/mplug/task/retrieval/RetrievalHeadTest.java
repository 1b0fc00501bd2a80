package dev.mplug.task.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.loss.ItmNegatives;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.EnumSet;
import java.util.Set;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The retrieval head's losses on hand-checkable inputs, its hard negatives, and the forward it shares with ITM. */
class RetrievalHeadTest {
  static MPlug tinyModel() {
    return new MPlug(MPlugConfig.tiny().withParts(EnumSet.copyOf(RetrievalHead.PARTS)));
  }

  @Test
  void positiveTargetsAreTheSameImageIndicatorNormalisedPerRow() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor t = RetrievalHead.positiveTargets(Tensors.longs(new long[] {0, 0, 1}, 3));
      assertArrayEquals(new float[] {0.5f, 0.5f, 0, 0.5f, 0.5f, 0, 0, 0, 1}, Tensors.toFloats(t));
    }
  }

  @Test
  void contrastiveLossMatchesHandComputedValues() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor sims = Tensors.floats(new float[] {1, 0, 0, 1}, 2, 2);   // identity similarities
      // distinct images: each row is -log(e / (e + 1)) = log(1 + 1/e)
      double distinct = RetrievalHead.contrastiveLoss(sims, sims, Tensors.longs(new long[] {0, 1}, 2)).item_double();
      assertEquals(Math.log(1 + Math.exp(-1)), distinct, 1e-6);
      assertEquals(0.3132617, distinct, 1e-6);
      // one image, two captions: targets 1/2, 1/2: -(1/2) log(e/(e+1)) - (1/2) log(1/(e+1)) = log(1 + e) - 1/2
      double shared = RetrievalHead.contrastiveLoss(sims, sims, Tensors.longs(new long[] {7, 7}, 2)).item_double();
      assertEquals(0.8132617, shared, 1e-6);
      // asymmetric: i2t rows [2, 0], [0, 0]; t2i rows [2, 0], [0, 0]; distinct targets
      Tensor s = Tensors.floats(new float[] {2, 0, 0, 0}, 2, 2);
      double expected = (Math.log(1 + Math.exp(-2)) + Math.log(2)) / 2;
      assertEquals(expected, RetrievalHead.contrastiveLoss(s, s, Tensors.longs(new long[] {0, 1}, 2)).item_double(),
          1e-6);
    }
  }

  @Test
  void hardNegativesNeverShowTheSameImage() {
    Seeds.fresh("hardNegativesNeverShowTheSameImage");
    try (TensorScope scope = TensorScope.open()) {
      long[] ids = {3, 3, 5, 5, 5, 9};
      Tensor imageIds = Tensors.longs(ids, 6);
      for (int trial = 0; trial < 50; trial++) {
        Tensor sim = torch.randn(6, 6).mul(Tensors.scalar(5));
        ItmNegatives.Indices neg = RetrievalNegatives.sample(sim, sim.t(), imageIds);
        long[] texts = Tensors.toLongs(neg.textForImage());
        long[] images = Tensors.toLongs(neg.imageForText());
        for (int i = 0; i < 6; i++) {
          assertNotEquals(ids[i], ids[(int) texts[i]], "image " + i + " drew text " + texts[i]);
          assertNotEquals(ids[i], ids[(int) images[i]], "text " + i + " drew image " + images[i]);
        }
      }
    }
  }

  @Test
  void hardNegativesFollowTheSimilarity() {
    Seeds.fresh("hardNegativesFollowTheSimilarity");
    try (TensorScope scope = TensorScope.open()) {
      // row 0: text 1 shares image 0's id; of the others text 2 is far more similar than text 3
      Tensor sim = Tensors.floats(new float[] {9, 9, 8, 0, 9, 9, 0, 8, 8, 0, 9, 0, 0, 8, 0, 9}, 4, 4);
      Tensor ids = Tensors.longs(new long[] {0, 0, 1, 2}, 4);
      int twos = 0;
      for (int trial = 0; trial < 40; trial++) {
        if (Tensors.toLongs(RetrievalNegatives.sample(sim, sim, ids).textForImage())[0] == 2) twos++;
      }
      assertTrue(twos >= 38, "text 2 (e^8 against e^0) should be drawn almost always, got " + twos + "/40");
    }
  }

  @Test
  void hardNegativesFallBackWhenNoOtherImageOrAllWeightUnderflows() {
    Seeds.fresh("hardNegativesFallBack");
    try (TensorScope scope = TensorScope.open()) {
      // every pair shows one image: each row can only draw the other pair
      Tensor sim = Tensors.floats(new float[] {1, 0, 0, 1}, 2, 2);
      ItmNegatives.Indices same = RetrievalNegatives.sample(sim, sim, Tensors.longs(new long[] {4, 4}, 2));
      assertArrayEquals(new long[] {1, 0}, Tensors.toLongs(same.textForImage()));
      // the positive dominates so much that the others' softmax weight is exactly 0 in float32
      Tensor huge = Tensors.floats(new float[] {0, -1e4f, -1e4f, 0}, 2, 2).mul(Tensors.scalar(100));
      ItmNegatives.Indices under = RetrievalNegatives.sample(huge, huge, Tensors.longs(new long[] {0, 1}, 2));
      assertArrayEquals(new long[] {1, 0}, Tensors.toLongs(under.imageForText()));
      assertThrows(IllegalArgumentException.class,
          () -> RetrievalNegatives.sample(torch.zeros(1, 1), torch.zeros(1, 1), Tensors.longs(new long[] {0}, 1)));
    }
  }

  @Test
  void trainingLossesAreTheContrastiveLossOfTheForwardAndAnItmNearChance() {
    Seeds.fresh("trainingLosses");
    try (TensorScope scope = TensorScope.open()) {
      MPlug model = tinyModel();
      RetrievalHead head = new RetrievalHead(model);
      Tensor images = torch.randn(4, 3, 32, 32);
      Tensor ids = Tensors.longs(new long[] {101, 5, 6, 102, 101, 7, 102, 0, 101, 8, 9, 102, 101, 5, 102, 0}, 4, 4);
      Tensor mask = ids.ne(Tensors.scalar(0)).to(torch.ScalarType.Long);
      Tensor imageIds = Tensors.longs(new long[] {0, 0, 1, 2}, 4);
      model.eval();   // no dropout: the two computations must agree exactly
      RetrievalHead.Losses losses;
      double fromForward;
      try (NoGradGuard guard = new NoGradGuard()) {
        losses = head.losses(images, ids, mask, imageIds);
        RetrievalHead.Output o = head.forward(images, ids, mask);
        fromForward = RetrievalHead.contrastiveLoss(o.simI2t(), o.simT2i(), imageIds).item_double();
        assertArrayEquals(new long[] {4, 2}, Tensors.shape(o.itmLogits()));
        // the pair scores of the ranking are the forward's ITM logits of class 1
        assertArrayEquals(Tensors.toFloats(o.itmLogits().select(1, 1)),
            Tensors.toFloats(head.matchScores(o.visionEmbeds(), o.textEmbeds(), mask)), 1e-6f);
      }
      assertEquals(fromForward, losses.itc().item_double(), 1e-6);
      assertEquals(Math.log(2), losses.itm().item_double(), 0.35);   // random ITM head: near chance
      model.train(true);
      RetrievalHead.Losses trained = head.losses(images, ids, mask, imageIds);
      trained.itc().add(trained.itm()).backward();
      for (String name : new String[] {"visual_encoder.visual.conv1.weight", "text_proj.weight", "itm_head.weight",
          "fusion_encoder.encoder.layer.0.crossattention.self.query.weight", "temp"}) {
        Tensor g = model.namedParameters().get(name).grad();
        assertTrue(g.defined() && g.abs().sum().item_double() > 0, "no gradient reached " + name);
      }
    }
  }

  @Test
  void rejectsAModelWithoutTheHeadsAndMalformedImageIds() {
    try (TensorScope scope = TensorScope.open()) {
      MPlug noHeads = new MPlug(MPlugConfig.tiny().withParts(Set.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION)));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RetrievalHead(noHeads));
      assertEquals("retrieval needs the model part ITC_ITM_HEADS", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> RetrievalHead.positiveTargets(torch.zeros(2, 2)));
    }
  }
}
