package dev.mplug.task.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.nlvr2.Nlvr2Head;
import dev.mplug.task.snlive.SnliVeHead;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The SNLI-VE and NLVR2 heads: their classifier by hand, shapes, loss, parameters on the model, image order. */
class ClassificationHeadsTest {
  /** The tiny preset (hidden 32, 32 px images) with the parts both tasks use. */
  static MPlug tinyModel() {
    return new MPlug(MPlugConfig.tiny().withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION)));
  }

  static Tensor tokens(long[][] rows) {
    long[] flat = new long[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
    return Tensors.longs(flat, rows.length, rows[0].length);
  }

  @Test
  void classifierIsLinearReluLinearAsComputedByHand() {
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      MPlug model = tinyModel();
      ClassifierMlp mlp = ClassifierMlp.attach(model, 32, 3);
      Map<String, Tensor> p = model.namedParameters();
      // first layer: the identity on the 32 inputs with bias -1 on unit 3; second: unit sums into three classes
      p.get("cls_head.0.weight").copy_(torch.eye(32));
      p.get("cls_head.0.bias").zero_().narrow(0, 3, 1).fill_(Tensors.scalar(-1));
      float[] w2 = new float[3 * 32];
      w2[0] = 1; w2[1] = 1; w2[2] = 1; w2[3] = 1;            // class 0: h0 + h1 + h2 + h3
      w2[32] = 1; w2[32 + 1] = -1;                            // class 1: h0 - h1
      p.get("cls_head.2.weight").copy_(Tensors.floats(w2, 3, 32));
      p.get("cls_head.2.bias").copy_(Tensors.floats(new float[] {0, 0, 0.5f}, 3));
      float[] x = new float[32];
      x[0] = 1; x[1] = -2; x[2] = 3; x[3] = 0.5f;             // h = relu(1, -2, 3, -0.5) = (1, 0, 3, 0)
      float[] logits = Tensors.toFloats(mlp.forward(Tensors.floats(x, 1, 32)));
      assertArrayEquals(new float[] {4f, 1f, 0.5f}, logits, 1e-6f);
    }
  }

  @Test
  void snliVeHeadGivesThreeLogitsAndTheirCrossEntropy() {
    Seeds.fresh("snliVeHeadGivesThreeLogitsAndTheirCrossEntropy");
    try (TensorScope _ = TensorScope.open()) {
      MPlug model = tinyModel();
      SnliVeHead head = new SnliVeHead(model);
      assertEquals(List.of("contradiction", "neutral", "entailment"), head.classNames());
      Tensor images = torch.randn(new long[] {2, 3, 32, 32});
      Tensor ids = tokens(new long[][] {{101, 7, 8, 102}, {101, 9, 102, 0}});
      Tensor mask = tokens(new long[][] {{1, 1, 1, 1}, {1, 1, 1, 0}});
      SentenceClassifier.Output out = head.forward(images, ids, mask, Tensors.longs(new long[] {2, 0}, 2));
      assertArrayEquals(new long[] {2, 3}, Tensors.shape(out.logits()));
      float[] z = Tensors.toFloats(out.logits());
      double expected = (nll(z, 0, 3, 2) + nll(z, 3, 3, 0)) / 2;   // mean over the batch
      assertEquals(expected, out.loss().item_double(), 1e-5);
      out.loss().backward();
      Tensor grad = model.namedParameters().get("cls_head.0.weight").grad();
      assertTrue(grad.defined() && grad.abs().sum().item_double() > 0, "the classifier trains");
      assertTrue(model.namedParameters().get("visual_encoder.visual.conv1.weight").grad().abs().sum().item_double() > 0,
          "so does the ViT");
      assertThrows(IllegalArgumentException.class,
          () -> head.forward(images, ids, mask, Tensors.longs(new long[] {1}, 1)));
    }
  }

  @Test
  void headsRegisterTheirParametersOnTheModelOnce() {
    try (TensorScope _ = TensorScope.open()) {
      MPlug model = tinyModel();
      int before = model.namedParameters().size();
      new Nlvr2Head(model);
      new Nlvr2Head(model);   // a second head over the same model reuses the parameters
      Map<String, Tensor> p = model.namedParameters();
      assertEquals(before + 4, p.size(), "cls_head.{0,2}.{weight,bias}");
      assertArrayEquals(new long[] {32, 64}, Tensors.shape(p.get("cls_head.0.weight")), "the two [CLS] states in");
      assertArrayEquals(new long[] {2, 32}, Tensors.shape(p.get("cls_head.2.weight")));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SnliVeHead(model));
      assertEquals("the model's cls_head maps 64 -> 2, this task needs 32 -> 3", e.getMessage());
      MPlug noFusion = new MPlug(MPlugConfig.tiny().withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER)));
      assertEquals("nlvr2 needs the model part FUSION",
          assertThrows(IllegalArgumentException.class, () -> new Nlvr2Head(noFusion)).getMessage());
    }
  }

  @Test
  void nlvr2HeadReadsEachImageOnItsOwnAndTellsLeftFromRightByOrder() {
    Seeds.fresh("nlvr2HeadReadsEachImageOnItsOwnAndTellsLeftFromRightByOrder");
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      MPlug model = tinyModel();
      Nlvr2Head head = new Nlvr2Head(model);
      model.eval();
      assertEquals(List.of("False", "True"), head.classNames());
      Tensor pairs = torch.randn(new long[] {3, 2, 3, 32, 32});
      Tensor swapped = pairs.flip(new long[] {1});
      Tensor ids = tokens(new long[][] {{101, 7, 8, 102}, {101, 9, 102, 0}, {101, 10, 11, 102}});
      Tensor mask = tokens(new long[][] {{1, 1, 1, 1}, {1, 1, 1, 0}, {1, 1, 1, 1}});
      assertArrayEquals(new long[] {3, 2}, Tensors.shape(head.logits(pairs, ids, mask)));
      // row 2b + k of the fusion is statement b read against image k alone, as one image-text pair is in pretraining
      Tensor fused = head.fuse(pairs, ids, mask);                                        // [6, T, H]
      assertArrayEquals(new long[] {6, 4, 32}, Tensors.shape(fused));
      for (int b = 0; b < 3; b++) {
        for (int k = 0; k < 2; k++) {
          Tensor v = model.visionEmbeds(model.visionTokens(pairs.select(1, k).narrow(0, b, 1)));   // [1, Nv, H]
          Tensor alone = model.fuse(model.textEmbeds(ids.narrow(0, b, 1), mask.narrow(0, b, 1)),
              mask.narrow(0, b, 1), v, MPlug.imageMask(v)).text();
          assertTrue(maxDifference(fused.narrow(0, 2 * b + k, 1), alone) < 1e-5, "pair " + b + ", image " + k);
        }
      }
      // swapping the images swaps the two [CLS] states, and the classifier tells the orders apart
      Tensor cls = fused.select(1, 0);
      Tensor cls2 = head.fuse(swapped, ids, mask).select(1, 0);
      assertTrue(maxDifference(cls.view(3, 2, 32).flip(new long[] {1}), cls2.view(3, 2, 32)) < 1e-5);
      // (at this random start the two orders' logits differ by ~1e-4 on logits of ~1e-2; an order-blind classifier
      // would give them equal to float rounding, ~1e-9 here)
      assertTrue(maxDifference(head.logits(pairs, ids, mask), head.logits(swapped, ids, mask)) > 1e-6,
          "the order of the images is the order of the states in the classifier's input");
      assertThrows(IllegalArgumentException.class, () -> head.logits(torch.randn(new long[] {3, 3, 32, 32}), ids,
          mask));
    }
  }

  private static double maxDifference(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_double();
  }

  /** -log softmax(z[off .. off + n))[label], in double. */
  private static double nll(float[] z, int off, int n, int label) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) max = Math.max(max, z[off + i]);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += Math.exp(z[off + i] - max);
    return Math.log(sum) + max - z[off + label];
  }
}
