package dev.mplug.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Beam search and greedy: cached = uncached, greedy = beam 1, the scoring and length rules of the official search. */
class GenerationTest {
  private static final GenerationConfig G = new GenerationConfig(3, 2, 6, 101, 102, 0.6);

  /** A tiny random decoder whose [SEP] logit is raised (as in the fixtures) so that some beams end early. */
  private static TextDecoder decoder() {
    TextDecoder d = new TextDecoder(MPlugConfig.tiny().text());
    d.eval();
    Map<String, Tensor> p = MPlug.namedParameters(d);
    try (NoGradGuard _ = new NoGradGuard()) {
      // larger weights than the init so that the distribution is peaked enough to make choices
      for (Tensor t : p.values()) if (t.dim() == 2) t.mul_(new Scalar(8));
      p.get("cls.predictions.bias").select(0, 102).add_(new Scalar(3.0));
    }
    return d;
  }

  @Test
  void cachedAndUncachedBeamSearchGiveIdenticalHypotheses() {
    Seeds.fresh("beam cached");
    TextDecoder d = decoder();
    try (TensorScope _ = TensorScope.open()) {
      Tensor memory = torch.randn(4, 5, 32);
      Tensor mask = Tensors.longs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, 4, 5);
      List<List<Hypothesis>> uncached = BeamSearch.run(d, memory, mask, G, false);
      List<List<Hypothesis>> cached = BeamSearch.run(d, memory, mask, G, true);
      for (int b = 0; b < 4; b++) {
        assertEquals(G.beamSize(), uncached.get(b).size());
        for (int j = 0; j < G.beamSize(); j++) {
          assertArrayEquals(uncached.get(b).get(j).ids(), cached.get(b).get(j).ids(), "example " + b + " beam " + j);
          assertEquals(uncached.get(b).get(j).score(), cached.get(b).get(j).score(), 1e-4);
        }
      }
    }
  }

  @Test
  void hypothesesFollowTheOfficialRules() {
    Seeds.fresh("beam rules");
    TextDecoder d = decoder();
    try (TensorScope _ = TensorScope.open()) {
      Tensor memory = torch.randn(3, 5, 32);
      Tensor mask = torch.ones(3, 5).to(torch.ScalarType.Long);
      List<List<Hypothesis>> all = BeamSearch.run(d, memory, mask, G, true);
      int endedBySep = 0;
      for (int b = 0; b < 3; b++) {
        float previous = Float.POSITIVE_INFINITY;
        for (Hypothesis h : all.get(b)) {
          long[] ids = h.ids();
          assertEquals(101, ids[0], "starts with [CLS]");
          assertTrue(ids.length >= 2 && ids.length <= G.maxLength() + 1, "length " + ids.length);
          for (int t = 1; t <= G.minLength(); t++) assertTrue(ids[t] != 102, "[SEP] before min_length: " + h);
          if (h == all.get(b).getFirst()) {
            // the others may be companions recorded when the best one of a step finished
            assertTrue(ids[ids.length - 1] == 102 || ids.length == G.maxLength() + 1, "best ends by [SEP] or max");
          }
          if (ids[ids.length - 1] == 102) endedBySep++;
          assertTrue(h.score() <= previous, "sorted best first");
          previous = h.score();
          // score = (sum of the tokens' log-probabilities under teacher forcing) / ((5 + n) / 6)^0.6
          Tensor logits = d.forward(Tensors.longs(ids, 1, ids.length), null, memory.narrow(0, b, 1),
              mask.narrow(0, b, 1));                                                       // [1, L, V]
          float[] logp = Tensors.toFloats(torch.log_softmax(logits, -1));
          int vocab = (int) logits.size(2);
          double sum = 0;
          for (int t = 0; t + 1 < ids.length; t++) sum += logp[t * vocab + (int) ids[t + 1]];
          assertEquals(sum / G.lengthPenalty(ids.length - 1), h.score(), 2e-4, "score of " + h);
        }
      }
      assertTrue(endedBySep > 0, "the raised [SEP] bias ends some hypotheses early");
    }
  }

  @Test
  void greedyEqualsBeamOfWidthOneCachedOrNot() {
    Seeds.fresh("greedy");
    TextDecoder d = decoder();
    GenerationConfig one = G.withBeamSize(1);
    try (TensorScope _ = TensorScope.open()) {
      Tensor memory = torch.randn(3, 5, 32);
      Tensor mask = torch.ones(3, 5).to(torch.ScalarType.Long);
      List<Hypothesis> greedy = GreedySearch.run(d, memory, mask, one, false);
      List<Hypothesis> greedyCached = GreedySearch.run(d, memory, mask, one, true);
      List<List<Hypothesis>> beam = BeamSearch.run(d, memory, mask, one, true);
      for (int b = 0; b < 3; b++) {
        assertArrayEquals(greedy.get(b).ids(), greedyCached.get(b).ids(), "greedy cached, example " + b);
        assertArrayEquals(beam.get(b).getFirst().ids(), greedy.get(b).ids(),
            "beam 1 vs greedy: " + Arrays.toString(greedy.get(b).ids()));
        assertEquals(beam.get(b).getFirst().score(), greedy.get(b).score(), 1e-4);
      }
    }
  }

  @Test
  void aForcedPrefixIsFedNotScoredAndLengthsCountAfterIt() {
    Seeds.fresh("beam prefix");
    TextDecoder d = decoder();
    long[] prefix = {7, 30, 12};
    try (TensorScope _ = TensorScope.open()) {
      Tensor memory = torch.randn(3, 5, 32);
      Tensor mask = Tensors.longs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, 3, 5);
      List<List<Hypothesis>> uncached = BeamSearch.run(d, memory, mask, G, false, prefix);
      List<List<Hypothesis>> cached = BeamSearch.run(d, memory, mask, G, true, prefix);
      for (int b = 0; b < 3; b++) {
        assertEquals(G.beamSize(), cached.get(b).size());
        for (int j = 0; j < G.beamSize(); j++) {
          Hypothesis h = cached.get(b).get(j);
          assertArrayEquals(uncached.get(b).get(j).ids(), h.ids(), "example " + b + " beam " + j);
          long[] ids = h.ids();
          assertArrayEquals(new long[] {101, 7, 30, 12}, Arrays.copyOf(ids, 4), "[CLS] then the prefix: " + h);
          int generated = ids.length - 4;
          assertTrue(generated >= 1 && generated <= G.maxLength(), "generated " + generated);
          for (int t = 4; t < 4 + G.minLength(); t++) assertTrue(ids[t] != 102, "[SEP] before min_length: " + h);
          // score = the generated tokens' log-probabilities (not the prefix's) / ((5 + generated) / 6)^0.6
          Tensor logits = d.forward(Tensors.longs(ids, 1, ids.length), null, memory.narrow(0, b, 1),
              mask.narrow(0, b, 1));                                                       // [1, L, V]
          float[] logp = Tensors.toFloats(torch.log_softmax(logits, -1));
          int vocab = (int) logits.size(2);
          double sum = 0;
          for (int t = 3; t + 1 < ids.length; t++) sum += logp[t * vocab + (int) ids[t + 1]];
          assertEquals(sum / G.lengthPenalty(generated), h.score(), 2e-4, "score of " + h);
        }
      }
    }
  }
}
