package dev.mplug.task.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The self-critical loss on hand-computed values, and that its gradient moves probability to the rewarded caption. */
class SelfCriticalTrainingTest {
  @Test
  void lossAndGradientMatchTheHandComputedValues() {
    try (TensorScope _ = TensorScope.open()) {
      // image 0: hypotheses with log-probs -2 (4 ids, reward 1) and -4 (2 ids, reward 0): baseline 0.5
      // image 1: one hypothesis (advantage 0) with log-prob -3
      Tensor lp = Tensors.floats(new float[] {-2, -4, -3}, 3).requires_grad_(true);
      Tensor loss = SelfCriticalTraining.loss(lp, new long[] {4, 2, 5}, new double[] {1, 0, 0.7}, new int[] {2, 1});
      // terms -(lp / len) x adv: -(-2 / 4)(0.5) = 0.25, -(-4 / 2)(-0.5) = -1, 0; mean over 3 hypotheses
      assertEquals((0.25 - 1 + 0) / 3, loss.item_double(), 1e-6);
      loss.backward();
      float[] grad = Tensors.toFloats(lp.grad());
      assertEquals(-0.5 / 4 / 3, grad[0], 1e-6, "descending raises the rewarded hypothesis");
      assertEquals(0.5 / 2 / 3, grad[1], 1e-6, "and lowers the other");
      assertEquals(0, grad[2], 1e-9, "a lone hypothesis is its own baseline");
    }
  }

  @Test
  void badGroupsAreRefused() {
    try (TensorScope _ = TensorScope.open()) {
      Tensor lp = Tensors.floats(new float[] {-1, -1}, 2);
      assertThrows(IllegalArgumentException.class,
          () -> SelfCriticalTraining.loss(lp, new long[] {2, 2}, new double[] {1, 0}, new int[] {1}));
      assertThrows(IllegalArgumentException.class,
          () -> SelfCriticalTraining.loss(lp, new long[] {2, 2}, new double[] {1}, new int[] {2}));
      assertThrows(IllegalArgumentException.class,
          () -> SelfCriticalTraining.loss(lp, new long[] {2, 2}, new double[] {1, 0}, new int[] {2, 0}));
    }
  }

  @Test
  void aStepWithRewardsOneAndZeroRaisesTheFirstCaption() {
    Seeds.fresh("scst toy");
    MPlug m = new MPlug(MPlugConfig.tiny().withParts(Part.caption()));
    m.eval();   // no dropout: the two evaluations differ only by the update
    CaptionHead head = new CaptionHead(m, new GenerationConfig(2, 0, 4, 101, 102, 0.6));
    try (TensorScope _ = TensorScope.open()) {
      Tensor images = torch.randn(1, 3, 32, 32);
      Tensor ids = Tensors.longs(new long[] {101, 7, 8, 102, 101, 9, 102, 0}, 2, 4);
      long[] lengths = {4, 3};
      double[] before = logProbs(head, images, ids, lengths);
      Tensor v = head.imageStates(images);
      Tensor lp = head.sequenceLogProbs(v.index_select(0, Tensors.longs(new long[] {0, 0}, 2)), ids, lengths);
      SelfCriticalTraining.loss(lp, lengths, new double[] {1, 0}, new int[] {2}).backward();
      try (NoGradGuard _ = new NoGradGuard()) {
        for (Tensor p : m.namedParameters().values()) {
          if (p.grad().defined()) p.sub_(p.grad().mul(new Scalar(0.01)));
        }
      }
      double[] after = logProbs(head, images, ids, lengths);
      // loss = -(0.5 lp0 / 4) + (0.5 lp1 / 3): a small gradient step lowers it, i.e. raises the rewarded caption's
      // per-token log-probability against the unrewarded one's (each alone may move either way: both share the
      // parameters, and a step that helps one can carry the other along)
      double rewarded = (after[0] - before[0]) / lengths[0];
      double unrewarded = (after[1] - before[1]) / lengths[1];
      assertTrue(rewarded > unrewarded + 1e-4, "rewarded " + before[0] + " -> " + after[0] + ", unrewarded "
          + before[1] + " -> " + after[1]);
    }
  }

  @Test
  void aStepRewardsBeamHypothesesAndReachesEveryTrainedPart() {
    Seeds.fresh("scst step");
    List<String> tokens = new ArrayList<>(Vocabulary.SPECIALS);
    for (int i = tokens.size(); i < 128; i++) tokens.add("w" + i);
    BertTokenizer tok = new BertTokenizer(Vocabulary.of(tokens));
    Vocabulary v = tok.vocabulary();
    MPlug m = new MPlug(MPlugConfig.tiny().withParts(Part.caption()));
    CaptionHead head = new CaptionHead(m, new GenerationConfig(3, 2, 5, v.clsId(), v.sepId(), 0.6));
    Map<String, List<String>> refs = Map.of("a", List.of("w10 w11 w12", "w10 w13"), "b", List.of("w20 w21"));
    try (TensorScope _ = TensorScope.open();
        SelfCriticalTraining scst = new SelfCriticalTraining(head, tok, refs, 4)) {
      assertTrue(m.is_training(), "training mode");
      Tensor ids = Tensors.longs(new long[] {v.clsId(), 10, v.sepId(), v.clsId(), 20, v.sepId()}, 2, 3);
      CaptionBatch batch = new CaptionBatch(torch.randn(2, 3, 32, 32), ids, torch.ones_like(ids), List.of("a", "b"));
      Tensor loss = scst.losses(batch, 0).get("scst");
      assertTrue(Double.isFinite(loss.item_double()));
      double reward = scst.metrics().get("reward");
      assertTrue(reward >= 0 && reward <= 10, "CIDEr-D is in [0, 10]: " + reward);
      loss.backward();
      for (String name : List.of("visual_encoder.visual.conv1.weight", "text_decoder.cls.predictions.bias")) {
        Tensor g = m.namedParameters().get(name).grad();
        assertTrue(g.defined(), name + " gets a gradient");
      }
      CaptionBatch unknown = new CaptionBatch(torch.randn(1, 3, 32, 32), ids.narrow(0, 0, 1),
          torch.ones_like(ids.narrow(0, 0, 1)), List.of("zzz"));
      String e = assertThrows(IllegalArgumentException.class, () -> scst.losses(unknown, 1)).getMessage();
      assertTrue(e.contains("zzz"), e);
    }
  }

  private static double[] logProbs(CaptionHead head, Tensor images, Tensor ids, long[] lengths) {
    try (NoGradGuard _ = new NoGradGuard()) {
      Tensor v = head.imageStates(images);
      Tensor both = v.index_select(0, Tensors.longs(new long[] {0, 0}, 2));
      float[] lp = Tensors.toFloats(head.sequenceLogProbs(both, ids, lengths));
      return new double[] {lp[0], lp[1]};
    }
  }
}
