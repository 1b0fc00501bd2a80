package dev.mplug.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class ImageTextContrastiveTest {
  private static double logSoftmaxAt(double[] row, int i) {
    double max = Double.NEGATIVE_INFINITY;
    for (double r : row) max = Math.max(max, r);
    double sum = 0;
    for (double r : row) sum += Math.exp(r - max);
    return row[i] - max - Math.log(sum);
  }

  @Test
  void oneHotTargetsGiveTheInfoNceValue() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor v = Tensors.floats(new float[] {1, 0, 0, 1}, 2, 2);          // two unit image features
      Tensor t = Tensors.floats(new float[] {0.6f, 0.8f, 0, 1}, 2, 2);     // two unit text features
      Tensor queueImg = Tensors.floats(new float[] {0, 1, 1, 0}, 2, 2);    // [D, Q]: columns (0,1), (1,0)
      Tensor queueTxt = Tensors.floats(new float[] {1, 0, 0, 1}, 2, 2);    // columns (1,0), (0,1)
      Tensor ids = Tensors.longs(new long[] {-100, -100}, 1, 2);
      try (FeatureQueue q = new FeatureQueue(queueImg, queueTxt, ids, 0, null)) {
        Tensor temp = Tensors.floats(new float[] {0.5f});
        var out = ImageTextContrastive.loss(v, t, v, t, q, temp.view(), 0.0);
        // i2t row b: v_b . [t_0, t_1, qt_0, qt_1] / 0.5, target index b
        double[][] tv = {{0.6, 0.8}, {0, 1}};
        double[][] iv = {{1, 0}, {0, 1}};
        double[][] qt = {{1, 0}, {0, 1}};
        double[][] qi = {{0, 1}, {1, 0}};
        double expected = 0;
        for (int b = 0; b < 2; b++) {
          double[] i2t = new double[4];
          double[] t2i = new double[4];
          for (int j = 0; j < 2; j++) {
            i2t[j] = dot(iv[b], tv[j]) / 0.5;
            i2t[2 + j] = dot(iv[b], qt[j]) / 0.5;
            t2i[j] = dot(tv[b], iv[j]) / 0.5;
            t2i[2 + j] = dot(tv[b], qi[j]) / 0.5;
          }
          expected += (-logSoftmaxAt(i2t, b) - logSoftmaxAt(t2i, b)) / 2 / 2;
        }
        assertEquals(expected, out.loss().item_double(), 1e-5);
        assertEquals(0.6 / 0.5, Tensors.toFloats(out.simI2t())[0], 1e-5);   // in-batch sims returned for ITM
      }
    }
  }

  @Test
  void distillationMixesTheMomentumDistribution() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor v = Tensors.floats(new float[] {1, 0, 0, 1}, 2, 2);
      Tensor t = Tensors.floats(new float[] {1, 0, 0, 1}, 2, 2);
      try (FeatureQueue q = new FeatureQueue(Tensors.floats(new float[] {1, 1}, 2, 1),
          Tensors.floats(new float[] {1, 1}, 2, 1), Tensors.longs(new long[] {0}, 1, 1), 0, null)) {
        Tensor temp = Tensors.floats(new float[] {1f}).view();
        double plain = ImageTextContrastive.loss(v, t, v, t, q, temp, 0.0).loss().item_double();
        double mixed = ImageTextContrastive.loss(v, t, v, t, q, temp, 0.4).loss().item_double();
        // With alpha, targets are 0.4*softmax(row) + 0.6*onehot; the loss is their cross-entropy with the same row.
        double[] row = {1, 0, 1};
        double ce1 = -logSoftmaxAt(row, 0);
        double sm = 0;
        for (double r : row) sm += Math.exp(r);
        double entropyTerm = 0;
        for (int j = 0; j < 3; j++) entropyTerm += -(Math.exp(row[j]) / sm) * logSoftmaxAt(row, j);
        assertEquals(ce1, plain, 1e-5);
        assertEquals(0.6 * ce1 + 0.4 * entropyTerm, mixed, 1e-5);
      }
    }
  }

  private static double dot(double[] a, double[] b) {
    return a[0] * b[0] + a[1] * b[1];
  }

  @Test
  void queueEnqueuesRoundRobinAndWraps() {
    try (TensorScope scope = TensorScope.open();
        FeatureQueue q = new FeatureQueue(Tensors.floats(new float[6], 2, 3), Tensors.floats(new float[6], 2, 3),
            Tensors.longs(new long[] {-100, -100, -100}, 1, 3), 2, null)) {
      q.enqueue(Tensors.floats(new float[] {1, 2, 3, 4}, 2, 2), Tensors.floats(new float[] {5, 6, 7, 8}, 2, 2),
          Tensors.longs(new long[] {10, 11}, 2));
      assertEquals(1, q.pointer());
      // columns: 0 <- second feature (wrapped), 2 <- first feature
      assertArrayEquals(new float[] {3, 0, 1, 4, 0, 2}, Tensors.toFloats(q.images()));
      assertArrayEquals(new float[] {7, 0, 5, 8, 0, 6}, Tensors.toFloats(q.texts()));
      assertArrayEquals(new long[] {11, -100, 10}, Tensors.toLongs(q.ids()));
    }
  }
}
