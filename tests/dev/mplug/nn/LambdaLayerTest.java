package dev.mplug.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.MPlug;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The lambda layer's equations on inputs small enough to check by hand, and its gradients. */
class LambdaLayerTest {
  /** Sets every parameter of {@code layer} by name (values row-major). */
  private static void set(LambdaLayer layer, Map<String, float[]> values) {
    Map<String, Tensor> params = MPlug.namedParameters(layer);
    assertEquals(values.keySet(), params.keySet(), "parameters of the layer");
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      values.forEach((name, v) -> {
        Tensor p = params.get(name);
        p.copy_(Tensors.floats(v, Tensors.shape(p)));
      });
    }
  }

  private static float[] run(LambdaLayer layer, float[] x, long n, long width, Tensor mask, int grid) {
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      return Tensors.toFloats(layer.forward(Tensors.floats(x, 1, n, width), mask, grid));
    }
  }

  @Test
  void contentLambdaIsTheSoftmaxOfTheKeysOverTheContextTimesTheValuesAppliedToEachQuery() {
    // width 2, one head of key depth 1 (value depth 2): q = x0, k = x1, v = x.
    LambdaLayer layer = new LambdaLayer(2, 1, 1, 0);
    set(layer, Map.of("query.weight", new float[] {1, 0}, "key.weight", new float[] {0, 1},
        "value.weight", new float[] {1, 0, 0, 1}));
    float[] x = {1, 0, 0, 2};   // token 1 = (1, 0), token 2 = (0, 2)
    // K = (0, 2) -> softmax over the 2 positions: w = (1, e^2) / (1 + e^2); lambda_c = w1 (1, 0) + w2 (0, 2);
    // y1 = q1 lambda_c with q1 = 1, y2 = 0 (q2 = 0).
    double w1 = 1 / (1 + Math.exp(2)), w2 = Math.exp(2) / (1 + Math.exp(2));
    assertArrayEquals(new float[] {(float) w1, (float) (2 * w2), 0, 0}, run(layer, x, 2, 2, null, 0), 1e-6f);
    // the second token as padding (additive -10000): lambda_c = v1 = (1, 0)
    try (TensorScope _ = TensorScope.open()) {
      Tensor mask = Tensors.floats(new float[] {0, -10000}, 1, 1, 1, 2);
      assertArrayEquals(new float[] {1, 0, 0, 0}, run(layer, x, 2, 2, mask, 0), 1e-6f);
    }
  }

  @Test
  void positionLambdasApplyTheRelativeEmbeddingsOverTheGridAndSkipTheClassToken() {
    // width 1, one head, key depth 1: q = v = x, k = 0 (content lambda = the mean of v). E is 1 for the right
    // neighbour (row 0, column +1) and 0 elsewhere, so the position lambda of patch i is v of its right neighbour
    // (0 past the edge). Tokens: class 10, then the 2 x 2 grid row by row: 1 2 / 3 4.
    LambdaLayer layer = new LambdaLayer(1, 1, 1, 3);
    float[] e = new float[9];
    e[1 * 3 + 2] = 1;   // centre (1, 1), right neighbour (1, 2)
    set(layer, Map.of("query.weight", new float[] {1}, "key.weight", new float[] {0}, "value.weight",
        new float[] {1}, "position_embedding", e));
    float[] x = {10, 1, 2, 3, 4};
    double mean = (10 + 1 + 2 + 3 + 4) / 5.0;                   // 4
    float[] expected = {(float) (10 * mean), (float) (1 * (mean + 2)), (float) (2 * mean),
        (float) (3 * (mean + 4)), (float) (4 * mean)};         // 40, 6, 8, 24, 16
    assertArrayEquals(expected, run(layer, x, 5, 1, null, 2), 1e-5f);
    // without the grid, every token gets the content lambda only
    assertArrayEquals(new float[] {40, 4, 8, 12, 16}, run(layer, x, 5, 1, null, 0), 1e-5f);
  }

  @Test
  void headsShareKeysAndValuesAndConcatenate() {
    // width 4, 2 heads of key depth 1, value depth 2: head h's query is x[h]; k = 0 (mean of v); v = x[2..3].
    LambdaLayer layer = new LambdaLayer(4, 2, 1, 0);
    set(layer, Map.of("query.weight", new float[] {1, 0, 0, 0, 0, 1, 0, 0}, "key.weight", new float[] {0, 0, 0, 0},
        "value.weight", new float[] {0, 0, 1, 0, 0, 0, 0, 1}));
    float[] x = {2, 3, 1, 5, 0, 1, 3, 1};   // tokens (2, 3, 1, 5) and (0, 1, 3, 1); mean v = (2, 3)
    assertArrayEquals(new float[] {4, 6, 6, 9, 0, 0, 2, 3}, run(layer, x, 2, 4, null, 0), 1e-6f);
  }

  @Test
  void gradientsReachEveryParameterAndMatchFiniteDifferences() {
    torch.manual_seed(3);
    LambdaLayer layer = new LambdaLayer(8, 2, 3, 3);
    layer.to(torch.ScalarType.Double, false);
    Map<String, Tensor> params = MPlug.namedParameters(layer);
    try (TensorScope _ = TensorScope.open()) {
      Tensor x = torch.randn(2, 1 + 9, 8).to(torch.ScalarType.Double);
      try (NoGradGuard _ = new NoGradGuard()) {
        for (Tensor p : params.values()) p.mul_(Tensors.scalar(20));   // O(1) weights: visible gradients
      }
      Tensor loss = layer.forward(x, null, 3).pow(Tensors.scalar(2)).sum();
      loss.backward();
      for (Map.Entry<String, Tensor> entry : params.entrySet()) {
        Tensor p = entry.getValue();
        double analytic = p.grad().flatten().select(0, 0).item_double();
        double h = 1e-6;
        double[] around = new double[2];
        for (int s = 0; s < 2; s++) {
          try (NoGradGuard _ = new NoGradGuard()) {
            Tensor cell = p.flatten().narrow(0, 0, 1);
            cell.add_(Tensors.scalar(s == 0 ? h : -2 * h));
            around[s] = layer.forward(x, null, 3).pow(Tensors.scalar(2)).sum().item_double();
          }
        }
        try (NoGradGuard _ = new NoGradGuard()) {
          p.flatten().narrow(0, 0, 1).add_(Tensors.scalar(h));
        }
        double numeric = (around[0] - around[1]) / (2 * h);
        assertTrue(Math.abs(analytic - numeric) <= 1e-5 * Math.max(1, Math.abs(numeric)),
            entry.getKey() + ": analytic " + analytic + " vs numeric " + numeric);
      }
    }
  }

  @Test
  void refusesEvenWindowsAndGridsWithoutPositionEmbeddings() {
    assertThrows(IllegalArgumentException.class, () -> new LambdaLayer(8, 2, 4, 4));
    LambdaLayer contentOnly = new LambdaLayer(4, 2, 2, 0);
    try (TensorScope _ = TensorScope.open()) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> contentOnly.forward(torch.randn(1, 5, 4), null, 2));
      assertTrue(e.getMessage().contains("position window"), e.getMessage());
    }
  }
}
