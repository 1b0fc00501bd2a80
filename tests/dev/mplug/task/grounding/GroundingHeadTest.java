package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.model.TextConfig;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.util.Arrays;
import java.util.EnumSet;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The grounding head: the weighted token loss on hand-checkable logits, and on a tiny model the teacher-forced
 * forward, gradients, greedy decoding (cached = uncached) and bad input.
 */
class GroundingHeadTest {
  /** start 0, bins at 1..337, two more tokens: V = 340. */
  static final BoxTokens TOKENS = new BoxTokens(0, 1);
  static final int V = 340;
  /** The target (0.5, 0.5, 0.25, 0.25) sits exactly on bins 168, 168, 84, 84. */
  static final float[] TARGET = {0.5f, 0.5f, 0.25f, 0.25f};

  /** Logits [1, 4, V] that are 0 on the bin tokens and the box mask elsewhere, plus {@code peaks} at given ids. */
  static Tensor maskedLogits(long... peaks) {
    Tensor logits = TOKENS.logitMask(V, Tensors.floats(new float[] {0f}, 1)).unsqueeze(0).unsqueeze(0)
        .repeat(new long[] {1, 4, 1}).contiguous();                                     // [1, 4, V]
    for (int k = 0; k < peaks.length; k++) logits.select(1, k).select(1, peaks[k]).fill_(new Scalar(30.0));
    return logits;
  }

  @Test
  void uniformLogitsGiveTheHandComputedLoss() {
    try (TensorScope _ = TensorScope.open()) {
      Tensor targets = Tensors.floats(TARGET, 1, 4);
      GroundingHead.Output out = GroundingHead.loss(maskedLogits(), TOKENS.encode(targets), targets, TOKENS,
          GroundingHead.Weights.OFFICIAL);
      // every bin ties, so the argmax is bin 0: box (0, 0, 0, 0); each token's CE is log(337) (the -10000 mask
      // leaves the other 3 tokens out); L1 = (0.5, 0.5, 0.25, 0.25); GIoU of (0,0,0,0) with
      // (0.375, 0.375, 0.625, 0.625): 0 - (0.390625 - 0.0625) / (0.390625 + 1e-5) = -0.8399785
      assertArrayEquals(new float[] {0, 0, 0, 0}, Tensors.toFloats(out.predicted()), 0f);
      assertArrayEquals(new float[] {5.8200829f, 5.8200829f, 5.8200829f, 5.8200829f}, Tensors.toFloats(out.tokenNll()),
          1e-5f);
      assertArrayEquals(new float[] {0.5f * 1.8399785f, 0.5f * 1.8399785f, 0.25f * 1.8399785f, 0.25f * 1.8399785f},
          Tensors.toFloats(out.weights()), 1e-6f);
      // mean over 4 tokens: log(337) x 0.375 x 1.8399785
      assertEquals(4.0158103, out.loss().item_double(), 1e-5);
    }
  }

  @Test
  void weightsBlendEachFactorTowardsOne() {
    try (TensorScope _ = TensorScope.open()) {
      Tensor targets = Tensors.floats(TARGET, 1, 4);
      Tensor ids = TOKENS.encode(targets);
      double plain = GroundingHead.loss(maskedLogits(), ids, targets, TOKENS, new GroundingHead.Weights(0, 0, false)).loss()
          .item_double();
      assertEquals(Math.log(337), plain, 1e-5);   // both factors off: the mean token CE
      double half = GroundingHead.loss(maskedLogits(), ids, targets, TOKENS, new GroundingHead.Weights(0.5, 0.5, false))
          .loss().item_double();
      // L1 factors 1 + 0.5 (l1 - 1) = 0.75, 0.75, 0.625, 0.625 (mean 0.6875); GIoU factor 1 + 0.5 x 0.8399785
      assertEquals(Math.log(337) * 0.6875 * 1.41998925, half, 1e-5);
    }
  }

  @Test
  void theOfficialBroadcastCouplesTheBatch() {
    try (TensorScope _ = TensorScope.open()) {
      // row 0 predicts its target exactly (CE ~ 336 e^-30, weight 0), row 1 is uniform (CE log 337, weights
      // (0.5, 0.5, 0.25, 0.25) x 1.8399785 as above)
      Tensor logits = torch.cat(new TensorVector(maskedLogits(169, 169, 85, 85), maskedLogits()), 0);   // [2, 4, V]
      Tensor targets = Tensors.floats(new float[] {0.5f, 0.5f, 0.25f, 0.25f, 0.5f, 0.5f, 0.25f, 0.25f}, 2, 4);
      Tensor ids = TOKENS.encode(targets);
      double own = GroundingHead.loss(logits, ids, targets, TOKENS, GroundingHead.Weights.OFFICIAL).loss()
          .item_double();
      // each token by its own weight: (sum over row 1's tokens of log 337 x w) / 8
      assertEquals(Math.log(337) * 0.375 * 1.8399785 / 2, own, 1e-5);
      double broadcast = GroundingHead.loss(logits, ids, targets, TOKENS, new GroundingHead.Weights(1, 1, true))
          .loss().item_double();
      // mean_k of (batch-mean CE = log 337 / 2) x (batch-mean weight = w[1, k] / 2)
      assertEquals(Math.log(337) * 0.375 * 1.8399785 / 4, broadcast, 1e-5);
    }
  }

  @Test
  void anExactArgmaxBoxWeighsNothing() {
    try (TensorScope _ = TensorScope.open()) {
      Tensor targets = Tensors.floats(TARGET, 1, 4);
      Tensor ids = TOKENS.encode(targets);
      assertArrayEquals(new long[] {169, 169, 85, 85}, Tensors.toLongs(ids));
      GroundingHead.Output out = GroundingHead.loss(maskedLogits(169, 169, 85, 85), ids, targets, TOKENS,
          GroundingHead.Weights.OFFICIAL);
      assertArrayEquals(TARGET, Tensors.toFloats(out.predicted()), 0f);
      assertEquals(0.0, out.loss().item_double(), 0.0);   // L1 = 0 on every token
      // one coordinate off by one bin: only that token has L1 weight (1/336), times 1 - GIoU of the near box
      GroundingHead.Output near = GroundingHead.loss(maskedLogits(169, 169, 85, 86), ids, targets, TOKENS,
          GroundingHead.Weights.OFFICIAL);
      float[] w = Tensors.toFloats(near.weights());
      assertEquals(0f, w[0], 0f);
      assertEquals(0f, w[2], 0f);
      // predicted h = 85/336: box y 0.375 - 1/672 .. 0.625 + 1/672; IoU = 0.0625 / (0.25 x 0.2529762) (hull = union)
      double iou = 0.0625 / (0.25 * (85 / 336.0) + 1e-5);
      double hull = 0.25 * (85 / 336.0);
      double giou = iou - (hull - 0.25 * (85 / 336.0)) / (hull + 1e-5);
      assertEquals((1 / 336.0) * (1 - giou), w[3], 1e-6);
    }
  }

  static MPlug tinyModel(int vocab) {
    MPlugConfig c = MPlugConfig.tiny();
    TextConfig t = c.text();
    MPlugConfig sized = c.withText(new TextConfig(t.hidden(), t.heads(), t.intermediate(), vocab, t.maxPositions(),
        t.typeVocab(), t.layerNormEps(), t.hiddenDropout(), t.attentionDropout(), t.textEncoderLayers(),
        t.fusionLayers(), t.strideLayer(), t.decoderLayers(), t.padTokenId()));
    return new MPlug(sized.withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER)));
  }

  static Tensor ids(long[][] rows) {
    long[] flat = new long[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
    return Tensors.longs(flat, rows.length, rows[0].length);
  }

  @Test
  void teacherForcingTrainsTheWholeNetwork() {
    Seeds.fresh("teacherForcingTrainsTheWholeNetwork");
    Vocabulary vocab = BoxTokensTest.bertLayout();
    try (TensorScope _ = TensorScope.open()) {
      MPlug model = tinyModel(vocab.size());
      GroundingHead head = new GroundingHead(model, BoxTokens.of(vocab), GroundingHead.Weights.OFFICIAL);
      Tensor images = torch.randn(new long[] {2, 3, 32, 32});
      Tensor textIds = ids(new long[][] {{101, 999, 1000, 102}, {101, 1000, 102, 0}});
      Tensor textMask = ids(new long[][] {{1, 1, 1, 1}, {1, 1, 1, 0}});
      Tensor targets = Tensors.floats(new float[] {0.5f, 0.5f, 0.25f, 0.25f, 0.2f, 0.7f, 0.1f, 0.3f}, 2, 4);
      GroundingHead.Output out = head.forward(images, textIds, textMask, targets);
      assertArrayEquals(new long[] {2, 4, vocab.size()}, Tensors.shape(out.logits()));
      assertArrayEquals(new long[] {2, 4}, Tensors.shape(out.weights()));
      double loss = out.loss().item_double();
      assertTrue(loss > 0 && Double.isFinite(loss), "loss " + loss);
      out.loss().backward();
      for (String part : new String[] {"visual_encoder.", "text_encoder.", "fusion_encoder.", "text_decoder."}) {
        double sum = 0;
        for (var e : model.namedParameters().entrySet()) {
          Tensor grad = e.getValue().grad();
          if (e.getKey().startsWith(part) && grad.defined()) sum += grad.abs().sum().item_double();
        }
        assertTrue(sum > 0, "no gradient reaches " + part);
      }
    }
  }

  /**
   * Cached greedy decoding equals the uncached reference. A random model can be so flat that it writes one bin for
   * every input, which would make the comparison empty: up to 5 models (seeds s, s + 1, ...) are drawn until one's
   * boxes depend on the inputs, and each drawn model is compared.
   */
  @Test
  void cachedGreedyDecodingEqualsTheUncachedReference() {
    Vocabulary vocab = BoxTokensTest.bertLayout();
    long seed = Seeds.fresh("cachedGreedyDecodingEqualsTheUncachedReference");
    long distinct = 0;
    for (int attempt = 0; attempt < 5 && distinct <= 3; attempt++) {
      TorchRuntime.seed(seed + attempt);
      distinct = compareCachedAndUncached(vocab);
    }
    assertTrue(distinct > 3, "5 random models in a row decoded (almost) the same bins for every input");
  }

  /** One random model: cached = uncached decoding, bin tokens, boxes = bins / 336; returns the distinct tokens. */
  private static long compareCachedAndUncached(Vocabulary vocab) {
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      MPlug model = tinyModel(vocab.size());
      model.eval();
      // a random model's bin logits are nearly flat; larger (tied) word embeddings make each step's choice depend on
      // the image, the expression and the tokens so far
      model.namedParameters().get("text_decoder.bert.embeddings.word_embeddings.weight").normal_(0, 1,
          new GeneratorOptional());
      GroundingHead head = new GroundingHead(model, BoxTokens.of(vocab), GroundingHead.Weights.OFFICIAL);
      Tensor images = torch.randn(new long[] {3, 3, 32, 32});
      Tensor textIds = ids(new long[][] {{101, 1000, 102}, {101, 1000, 102}, {101, 999, 1000}});
      Tensor textMask = ids(new long[][] {{1, 1, 1}, {1, 1, 1}, {1, 1, 0}});
      GroundingHead.Prediction cached = head.decode(images, textIds, textMask, true);
      GroundingHead.Prediction uncached = head.decode(images, textIds, textMask, false);
      assertArrayEquals(new long[] {3, 4}, Tensors.shape(cached.tokens()));
      long[] c = Tensors.toLongs(cached.tokens());
      assertArrayEquals(Tensors.toLongs(uncached.tokens()), c);
      for (long id : c) assertTrue(id >= 345 && id <= 681, "not a bin token: " + id);
      float[] boxes = Tensors.toFloats(cached.boxes());
      for (int i = 0; i < c.length; i++) assertEquals((c[i] - 345) / 336f, boxes[i], 0f);
      return Arrays.stream(c).distinct().count();
    }
  }

  @Test
  void badInputIsRefused() {
    Vocabulary vocab = BoxTokensTest.bertLayout();
    try (TensorScope _ = TensorScope.open()) {
      IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
          () -> new GroundingHead(tinyModel(600), BoxTokens.of(vocab), GroundingHead.Weights.OFFICIAL));
      assertEquals("the model's text.vocab_size = 600 does not reach the last box token [unused676] (id 681)",
          small.getMessage());
      MPlug model = tinyModel(vocab.size());
      GroundingHead head = new GroundingHead(model, BoxTokens.of(vocab), GroundingHead.Weights.OFFICIAL);
      Tensor images = torch.randn(new long[] {2, 3, 32, 32});
      Tensor textIds = ids(new long[][] {{101, 102}, {101, 102}});
      IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
          () -> head.forward(images, textIds, textIds, torch.zeros(new long[] {2, 2})));
      assertTrue(shape.getMessage().contains("grounding targets"), shape.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new GroundingHead.Weights(-1, 1, false));
      MPlug noDecoder = new MPlug(model.config().withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION)));
      IllegalArgumentException part = assertThrows(IllegalArgumentException.class,
          () -> new GroundingHead(noDecoder, BoxTokens.of(vocab), GroundingHead.Weights.OFFICIAL));
      assertEquals("grounding needs the model part DECODER", part.getMessage());
    }
  }
}
