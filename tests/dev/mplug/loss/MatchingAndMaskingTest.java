package dev.mplug.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class MatchingAndMaskingTest {
  @Test
  void hardNegativesNeverPickThePositive() {
    Seeds.fresh("hardNegativesNeverPickThePositive");
    try (TensorScope scope = TensorScope.open()) {
      // text 2 is very similar to image 0: it should be image 0's negative almost always
      Tensor sim = Tensors.floats(new float[] {10, 0, 9, 0, 10, 0, 0, 0, 10}, 3, 3);
      int picked2 = 0;
      for (int trial = 0; trial < 50; trial++) {
        var neg = ItmNegatives.sample(sim, sim, ItmNegatives.Choice.HARD);
        long[] t = Tensors.toLongs(neg.textForImage());
        long[] i = Tensors.toLongs(neg.imageForText());
        for (int b = 0; b < 3; b++) {
          assertNotEquals(b, t[b], "image " + b + " got its own text as negative");
          assertNotEquals(b, i[b], "text " + b + " got its own image as negative");
        }
        if (t[0] == 2) picked2++;
      }
      assertTrue(picked2 >= 45, "the hard negative dominates: " + picked2 + "/50");
      assertThrows(IllegalArgumentException.class, () -> ItmNegatives.sample(torch.ones(1, 1), torch.ones(1, 1),
          ItmNegatives.Choice.HARD));
    }
  }

  @Test
  void randomNegativesAreUniformOverTheOtherPairs() {
    Seeds.fresh("randomNegativesAreUniformOverTheOtherPairs");
    try (TensorScope scope = TensorScope.open()) {
      // the same similarities as above: hard sampling would pick text 2 for image 0 almost always
      Tensor sim = Tensors.floats(new float[] {10, 0, 9, 0, 10, 0, 0, 0, 10}, 3, 3);
      int[][] counts = new int[3][3];
      int trials = 3000;
      for (int trial = 0; trial < trials; trial++) {
        long[] t = Tensors.toLongs(ItmNegatives.sample(sim, sim, ItmNegatives.Choice.RANDOM).textForImage());
        for (int b = 0; b < 3; b++) counts[b][(int) t[b]]++;
      }
      for (int b = 0; b < 3; b++) {
        assertEquals(0, counts[b][b], "image " + b + " got its own text as negative");
        for (int j = 0; j < 3; j++) {
          // each of the two others half the time: 1500 +- 5 standard deviations (27)
          if (j != b) assertEquals(trials / 2.0, counts[b][j], 140, "image " + b + ", text " + j);
        }
      }
    }
  }

  @Test
  void itmLossUsesOnePositiveAndTwoNegativesPerSample() {
    try (TensorScope scope = TensorScope.open()) {
      assertArrayEquals(new long[] {1, 1, 0, 0, 0, 0}, Tensors.toLongs(ImageTextMatching.labels(2)));
      // logits favouring the right class by ln(3): p(correct) = 3/4 for every row
      double l = Math.log(3);
      Tensor logits = Tensors.floats(new float[] {0, (float) l, 0, (float) l, (float) l, 0, (float) l, 0, (float) l, 0,
          (float) l, 0}, 6, 2);
      assertEquals(-Math.log(0.75), ImageTextMatching.loss(logits).item_double(), 1e-6);
    }
  }

  @Test
  void maskingSparesPadAndClsAndFollows801010() {
    Seeds.fresh("maskingSparesPadAndClsAndFollows801010");
    try (TensorScope scope = TensorScope.open()) {
      long[] raw = new long[4 * 2000];
      for (int r = 0; r < 4; r++) {
        raw[r * 2000] = 101;                                   // [CLS]
        for (int c = 1; c < 1900; c++) raw[r * 2000 + c] = 1000 + c;
        // the last 100 positions are [PAD] = 0
      }
      Tensor ids = Tensors.longs(raw, 4, 2000);
      var m = MaskedLanguageModeling.mask(ids, 30522, 0, 101, 103, 0.15);
      long[] in = Tensors.toLongs(m.inputIds());
      long[] labels = Tensors.toLongs(m.labels());
      int masked = 0, toMask = 0, unchanged = 0, random = 0;
      for (int i = 0; i < raw.length; i++) {
        if (raw[i] == 0 || raw[i] == 101) {
          assertEquals(-100, labels[i], "special token at " + i + " was masked");
          assertEquals(raw[i], in[i]);
          continue;
        }
        if (labels[i] == -100) {
          assertEquals(raw[i], in[i], "unmasked tokens are untouched");
          continue;
        }
        assertEquals(raw[i], labels[i], "label is the original id");
        masked++;
        if (in[i] == 103) toMask++;
        else if (in[i] == raw[i]) unchanged++;
        else random++;
      }
      int real = 4 * 1898;
      assertEquals(0.15, masked / (double) real, 0.02, "masking rate");
      assertEquals(0.8, toMask / (double) masked, 0.05, "[MASK] share");
      assertEquals(0.1, random / (double) masked, 0.04, "random share");
      assertEquals(0.1, unchanged / (double) masked, 0.04, "unchanged share");
    }
  }

  @Test
  void mlmLossIsCrossEntropyPlusDistillation() {
    try (TensorScope scope = TensorScope.open()) {
      // one sequence, two positions, vocabulary 2; only position 1 is predicted (label 0)
      Tensor logits = Tensors.floats(new float[] {5, 5, 1, 0}, 1, 2, 2);
      Tensor labels = Tensors.longs(new long[] {-100, 0}, 1, 2);
      Tensor teacher = Tensors.floats(new float[] {0, 0, 0, 1000}, 1, 2, 2);   // teacher says "1" at position 1
      double ce = -(1 - Math.log(Math.E + 1));                              // -log softmax([1,0])[0]
      double soft = -(0 - Math.log(Math.E + 1));                            // -log softmax([1,0])[1]
      assertEquals(ce, MaskedLanguageModeling.loss(logits, labels, null, 0.4, Distillation.Axis.VOCABULARY)
          .item_double(), 1e-5);
      assertEquals(0.6 * ce + 0.4 * soft, MaskedLanguageModeling.loss(logits, labels, teacher, 0.4,
          Distillation.Axis.VOCABULARY).item_double(), 1e-5);
      // the official sequence-axis form differs (it normalises over positions)
      double official = MaskedLanguageModeling.loss(logits, labels, teacher, 0.4, Distillation.Axis.OFFICIAL_SEQUENCE)
          .item_double();
      double seqSoft = -(0 - Math.log(Math.exp(5) + 1));                    // log_softmax over T of [5, 0] at t=1
      assertEquals(0.6 * ce + 0.4 * seqSoft, official, 1e-5);
    }
  }

  @Test
  void prefixSplitPartitionsTheWords() {
    var rng = new SplittableRandom(3);
    for (int i = 0; i < 20; i++) {
      var s = PrefixLanguageModeling.split("a small red circle left of a square", rng);
      assertEquals("a small red circle left of a square", s.prefix() + " " + s.target());
      assertTrue(!s.prefix().isEmpty() && !s.target().isEmpty());
    }
    assertEquals(new PrefixLanguageModeling.Split("", "circle"), PrefixLanguageModeling.split(" circle ", rng));
    var a = PrefixLanguageModeling.split("one two three four", new SplittableRandom(9));
    var b = PrefixLanguageModeling.split("one two three four", new SplittableRandom(9));
    assertEquals(a, b, "deterministic given the generator");
  }

  @Test
  void prefixLossIgnoresPaddingAndShifts() {
    try (TensorScope scope = TensorScope.open()) {
      // T = 3: [CLS] x [PAD]; only the prediction of x (from position 0) counts
      Tensor logits = Tensors.floats(new float[] {0, 2, 9, 9, 9, 9}, 1, 3, 2);
      Tensor ids = Tensors.longs(new long[] {0, 1, 0}, 1, 3);
      Tensor mask = Tensors.longs(new long[] {1, 1, 0}, 1, 3);
      assertEquals(-(2 - Math.log(1 + Math.exp(2))), PrefixLanguageModeling.loss(logits, ids, mask).item_double(),
          1e-5);
    }
  }
}
