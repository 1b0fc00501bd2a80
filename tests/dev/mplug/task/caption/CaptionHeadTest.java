package dev.mplug.task.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The captioning head: its loss on hand-checkable inputs, decoding shapes and rules, cached = uncached, bad input. */
class CaptionHeadTest {
  private static final GenerationConfig G = new GenerationConfig(3, 2, 6, 101, 102, 0.6);

  private static CaptionHead head() {
    MPlug m = new MPlug(MPlugConfig.tiny().withParts(Part.caption()));
    m.eval();
    return new CaptionHead(m, G);
  }

  @Test
  void tokenMeanLossAveragesOverRealTargets() {
    try (TensorScope _ = TensorScope.open()) {
      // 1 sequence, 3 positions, vocabulary 2; targets ids[1..2]
      Tensor logits = Tensors.floats(new float[] {0, 1, 2, 0, 5, 5}, 1, 3, 2);
      double nll0 = -Math.log(Math.exp(1) / (1 + Math.exp(1)));          // position 0 ([0, 1]) scores id 1
      double nll1 = -Math.log(1 / (1 + Math.exp(2)));                   // position 1 ([2, 0]) scores id 1
      Tensor padded = Tensors.longs(new long[] {1, 1, 0}, 1, 3);         // second target is padding
      assertEquals(nll0, CaptionHead.tokenMeanLoss(logits, padded, 0).item_double(), 1e-6);
      Tensor full = Tensors.longs(new long[] {1, 1, 1}, 1, 3);
      assertEquals((nll0 + nll1) / 2, CaptionHead.tokenMeanLoss(logits, full, 0).item_double(), 1e-6);
      // token mean over the batch, not a mean of per-caption means: 3 real targets, 2 in row 0 and 1 in row 1
      Tensor two = Tensors.floats(new float[] {0, 1, 2, 0, 5, 5, 0, 1, 2, 0, 5, 5}, 2, 3, 2);
      Tensor ids = Tensors.longs(new long[] {1, 1, 1, 1, 1, 0}, 2, 3);
      assertEquals((nll0 + nll1 + nll0) / 3, CaptionHead.tokenMeanLoss(two, ids, 0).item_double(), 1e-6);
    }
  }

  @Test
  void forwardGivesLogitsOverTheVocabularyAndItsLoss() {
    Seeds.fresh("caption forward");
    CaptionHead head = head();
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      Tensor ids = Tensors.longs(new long[] {101, 7, 8, 102, 102, 101, 9, 102, 0, 0}, 2, 5);
      Tensor mask = ids.ne(new Scalar(0)).to(torch.ScalarType.Long);
      CaptionHead.Output o = head.forward(torch.randn(2, 3, 32, 32), ids, mask);
      assertArrayEquals(new long[] {2, 17, 32}, Tensors.shape(o.visionEmbeds()));
      assertArrayEquals(new long[] {2, 5, 128}, Tensors.shape(o.logits()));
      assertEquals(CaptionHead.tokenMeanLoss(o.logits(), ids, 0).item_double(), o.loss().item_double(), 1e-7);
    }
  }

  @Test
  void sequenceLogProbsSumTheTokensWithinEachLength() {
    Seeds.fresh("caption seqlogp");
    CaptionHead head = head();
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      Tensor v = head.imageStates(torch.randn(1, 3, 32, 32));
      Tensor ids = Tensors.longs(new long[] {101, 7, 8, 102}, 1, 4);
      Tensor logits = head.logits(v, ids, null);
      // no padding: minus the token-mean loss times the 3 scored tokens
      double whole = -3 * CaptionHead.tokenMeanLoss(logits, ids, 0).item_double();
      assertEquals(whole, head.sequenceLogProbs(v, ids, new long[] {4}).item_double(), 1e-5);
      // length 3 with a [PAD] id (0) inside and junk after: scores exactly [CLS] 0 7
      Tensor withPad = Tensors.longs(new long[] {101, 0, 7, 55}, 1, 4);
      Tensor expected = Tensors.longs(new long[] {101, 0, 7}, 1, 3);
      double want = -2 * CaptionHead.tokenMeanLoss(head.logits(v, expected, null), expected, 1).item_double();
      assertEquals(want, head.sequenceLogProbs(v, withPad, new long[] {3}).item_double(), 1e-5);
      assertThrows(IllegalArgumentException.class, () -> head.sequenceLogProbs(v, ids, new long[] {5}));
      assertThrows(IllegalArgumentException.class, () -> head.sequenceLogProbs(v, ids, new long[] {4, 4}));
    }
  }

  @Test
  void beamSearchFollowsTheLengthRulesAndTheCacheChangesNothing() {
    Seeds.fresh("caption beams");
    CaptionHead head = head();
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      Tensor v = head.imageStates(torch.randn(3, 3, 32, 32));
      List<List<Hypothesis>> cached = head.generate(v, true);
      List<List<Hypothesis>> uncached = head.generate(v, false);
      assertEquals(3, cached.size());
      for (int b = 0; b < 3; b++) {
        assertEquals(G.beamSize(), cached.get(b).size());
        for (int j = 0; j < G.beamSize(); j++) {
          long[] h = cached.get(b).get(j).ids();
          assertArrayEquals(uncached.get(b).get(j).ids(), h, "image " + b + " beam " + j);
          assertEquals(101, h[0]);
          // [SEP] is forbidden before min_length generated tokens; at most max_length are generated
          assertTrue(h.length - 1 >= G.minLength() + (h[h.length - 1] == 102 ? 1 : 0) && h.length - 1 <= G.maxLength(),
              Arrays.toString(h));
          for (int i = 1; i <= G.minLength() && i < h.length; i++) assertTrue(h[i] != 102, "early [SEP]");
          if (j > 0) assertTrue(cached.get(b).get(j - 1).score() >= cached.get(b).get(j).score(), "best first");
        }
      }
    }
  }

  @Test
  void captionTextStopsAtTheEndTokenAndDropsSpecials() {
    List<String> tokens = new ArrayList<>(Vocabulary.SPECIALS);
    tokens.addAll(List.of("a", "red", "circle", "##s"));
    Vocabulary vocab = Vocabulary.of(tokens);
    BertTokenizer tok = new BertTokenizer(vocab);
    CaptionHead head = new CaptionHead(new MPlug(MPlugConfig.tiny().withParts(Part.caption())),
        new GenerationConfig(1, 0, 5, vocab.clsId(), vocab.sepId(), 0.6));
    long cls = vocab.clsId(), sep = vocab.sepId();
    long a = vocab.id("a"), red = vocab.id("red"), circle = vocab.id("circle"), s = vocab.id("##s");
    assertEquals("a red circles", head.caption(new Hypothesis(new long[] {cls, a, red, circle, s, sep, red}, 0), tok));
    assertEquals("a red", head.caption(new Hypothesis(new long[] {cls, a, red}, 0), tok), "no end token: all of it");
    assertEquals("", head.caption(new Hypothesis(new long[] {cls, sep}, 0), tok));
    assertEquals("a circle", head.caption(new Hypothesis(new long[] {cls, a, 100, circle, sep}, 0), tok),
        "an id of the model's larger embedding table, past the vocabulary, is dropped");
  }

  @Test
  void aPromptIsForcedAtTheStartNotScoredAndNotPartOfTheCaption() {
    Seeds.fresh("caption prompt");
    MPlug m = new MPlug(MPlugConfig.tiny().withParts(Part.caption()));
    m.eval();
    long[] prompt = {7, 8};
    CaptionHead plain = new CaptionHead(m, G);
    CaptionHead prompted = new CaptionHead(m, G, prompt);
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      Tensor v = prompted.imageStates(torch.randn(2, 3, 32, 32));
      for (List<Hypothesis> hs : prompted.generate(v, true)) {
        for (Hypothesis h : hs) assertArrayEquals(new long[] {101, 7, 8}, Arrays.copyOf(h.ids(), 3), h.toString());
      }
      // the prompted log-probability = the whole sequence's minus the prompt tokens'
      Tensor ids = Tensors.longs(new long[] {101, 7, 8, 9, 102}, 1, 5);
      Tensor head = Tensors.longs(new long[] {101, 7, 8}, 1, 3);
      double whole = plain.sequenceLogProbs(v.narrow(0, 0, 1), ids, new long[] {5}).item_double();
      double promptPart = plain.sequenceLogProbs(v.narrow(0, 0, 1), head, new long[] {3}).item_double();
      assertEquals(whole - promptPart, prompted.sequenceLogProbs(v.narrow(0, 0, 1), ids, new long[] {5})
          .item_double(), 1e-5);
      assertThrows(IllegalArgumentException.class,
          () -> prompted.sequenceLogProbs(v.narrow(0, 0, 1), ids, new long[] {2}), "shorter than [CLS] + prompt");
    }
    List<String> tokens = new ArrayList<>(Vocabulary.SPECIALS);
    tokens.addAll(List.of("a", "picture", "of", "red", "circle"));
    Vocabulary vocab = Vocabulary.of(tokens);
    long a = vocab.id("a"), picture = vocab.id("picture"), of = vocab.id("of");
    long red = vocab.id("red"), circle = vocab.id("circle");
    CaptionHead captions = new CaptionHead(m, new GenerationConfig(1, 0, 5, vocab.clsId(), vocab.sepId(), 0.6),
        new long[] {a, picture, of});
    assertEquals("a red circle", captions.caption(new Hypothesis(new long[] {vocab.clsId(), a, picture, of, a, red,
        circle, vocab.sepId()}, 0), new BertTokenizer(vocab)));
  }

  @Test
  void aModelWithoutDecoderIsRefusedAtOnce() {
    MPlug retrieval = new MPlug(MPlugConfig.tiny().withParts(Part.retrieval()));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CaptionHead(retrieval, G));
    assertTrue(e.getMessage().contains("DECODER"), e.getMessage());
  }
}
