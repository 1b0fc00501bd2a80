package dev.mplug.nn;

import static dev.mplug.testing.TensorAssert.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.testing.TensorAssert;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The fused {@code LayerNorm(residual + Dropout(x + bias))} against the composite (ATen's ops one by one): output and
 * the gradients of x, residual, bias, gamma and beta, fp32 within 1e-5 relative (max |diff| over max |reference|).
 * With bfloat16 tensors (x alone, as under bf16 autocast, or every input): within 1e-2 of the composite in float32 on
 * the same values, element-wise, and, for the autocast case, within 1e-2 of the composite in bf16 in norm (ATen's
 * all-bfloat16 ops round every intermediate to bfloat16: their column sums d gamma, d beta differ from the float32
 * reference by more than that, so that case is held to the reference only). Dropout reproducible from the seed, its
 * mask the counter-based hash of (seed, row, column), re-drawn here in Java, the same in bfloat16.
 */
class ResidualLayerNormTest {
  private static final double REL_TOL = 1e-5;
  private static final double BF16_REL_TOL = 1e-2;
  private static final double EPS = 1e-12;

  /** The element types of x, the residual and the [C] vectors (bias, gamma, beta) of one problem. */
  private record Types(torch.ScalarType x, torch.ScalarType residual, torch.ScalarType vectors) {
    static final Types FP32 = new Types(torch.ScalarType.Float, torch.ScalarType.Float, torch.ScalarType.Float);
    /** Under bf16 autocast: x is a bfloat16 product; the residual stream and LayerNorm's weights are float32. */
    static final Types AUTOCAST = new Types(torch.ScalarType.BFloat16, torch.ScalarType.Float, torch.ScalarType.Float);
    static final Types BF16 = new Types(torch.ScalarType.BFloat16, torch.ScalarType.BFloat16,
        torch.ScalarType.BFloat16);

  }

  private static void assertRelClose(Tensor expected, Tensor actual, String what) {
    TensorAssert.assertRelClose(expected, actual, REL_TOL, what);
  }

  /** The inputs x, residual, bias, gamma, beta of one problem, each a leaf requiring grad. */
  private static List<Tensor> inputs(long... shape) {
    return inputs(Types.FP32, shape);
  }

  private static List<Tensor> inputs(Types types, long... shape) {
    long c = shape[shape.length - 1];
    return List.of(leaf(torch.randn(shape), types.x()), leaf(torch.randn(shape), types.residual()),
        leaf(torch.randn(c), types.vectors()), leaf(torch.randn(c).add(new Scalar(1.0)), types.vectors()),
        leaf(torch.randn(c), types.vectors()));
  }

  private static Tensor leaf(Tensor x, torch.ScalarType type) {
    return x.to(type).detach().requires_grad_(true);
  }

  private static List<Tensor> copies(List<Tensor> xs) {
    return xs.stream().map(x -> x.detach().clone().requires_grad_(true)).toList();
  }

  /** The composite: {@code keep} is null (no dropout) or the scaled keep mask shaped as x. */
  private static Tensor composite(List<Tensor> in, Tensor keep) {
    Tensor h = in.get(0).add(in.get(2));
    if (keep != null) h = h.mul(keep.to(h.scalar_type()));
    Tensor z = in.get(1).add(h);
    return torch.layer_norm(z, new long[] {z.size(z.dim() - 1)}, new TensorOptional(in.get(3)),
        new TensorOptional(in.get(4)), EPS, false);
  }

  private static Tensor fused(List<Tensor> in, double p, long seed) {
    return ResidualLayerNorm.apply(in.get(0), in.get(2), in.get(1), in.get(3), in.get(4), EPS, p, seed);
  }

  /** Outputs and every gradient of the composite (with {@code keep}) and the fused op (p, seed) agree. */
  private static void compare(long[] shape, double p, long seed, Tensor keep, String what) {
    compare(Types.FP32, shape, p, seed, keep, what);
  }

  private static void compare(Types types, long[] shape, double p, long seed, Tensor keep, String what) {
    int pendingBefore = ResidualLayerNorm.pendingBackwards();
    List<Tensor> a = inputs(types, shape), b = copies(a);
    List<Tensor> c = a.stream().map(x -> x.detach().to(torch.ScalarType.Float).requires_grad_(true)).toList();
    Tensor expected = composite(a, keep), actual = fused(b, p, seed), reference = composite(c, keep);
    assertEquals(expected.scalar_type().value, actual.scalar_type().value, what + ": output type");
    check(types, expected, reference, actual, what + " output");
    Tensor upstream = torch.randn(shape);
    expected.mul(upstream).sum().backward();
    actual.mul(upstream).sum().backward();
    reference.mul(upstream).sum().backward();
    String[] names = {"x", "residual", "bias", "gamma", "beta"};
    for (int i = 0; i < names.length; i++) {
      assertEquals(a.get(i).scalar_type().value, b.get(i).grad().scalar_type().value, what + " d" + names[i] + " type");
      check(types, a.get(i).grad(), c.get(i).grad(), b.get(i).grad(), what + " d" + names[i]);
    }
    assertEquals(pendingBefore, ResidualLayerNorm.pendingBackwards(), "the hooks' state is released after backward");
  }

  /** The fused result against the composite's (and, with bfloat16, the float32 reference's); see the class comment. */
  private static void check(Types types, Tensor composite, Tensor reference, Tensor fused, String what) {
    if (types == Types.FP32) {
      assertRelClose(composite, fused, what);
      return;
    }
    TensorAssert.assertRelClose(reference, fused, BF16_REL_TOL, what + " vs float32");
    if (types == Types.AUTOCAST) {
      TensorAssert.assertNormRelClose(composite, fused, BF16_REL_TOL, what + " vs the bf16 composite");
    }
  }

  @Test
  void matchesTheCompositeOnValuesAndEveryGradient() {
    Seeds.fresh("residualLayerNormComposite");
    try (TensorScope scope = TensorScope.open()) {
      compare(new long[] {2, 37, 24}, 0.0, 0, null, "[2, 37, 24]");       // 74 rows: chunks of 32 and a tail
      compare(new long[] {1, 1, 7}, 0.0, 0, null, "[1, 1, 7]");           // one row, odd width
      compare(new long[] {3, 5, 768}, 0.0, 0, null, "[3, 5, 768]");       // mPLUG-base width
    }
  }

  @Test
  void bfloat16MatchesTheCompositeOnValuesAndEveryGradient() {
    long seed = Seeds.fresh("residualLayerNormBfloat16");
    try (TensorScope scope = TensorScope.open()) {
      for (Types types : List.of(Types.AUTOCAST, Types.BF16)) {
        String what = types == Types.AUTOCAST ? "bf16 x " : "all bf16 ";
        compare(types, new long[] {2, 37, 24}, 0.0, 0, null, what + "[2, 37, 24]");
        compare(types, new long[] {1, 1, 7}, 0.0, 0, null, what + "[1, 1, 7]");
        compare(types, new long[] {3, 5, 768}, 0.0, 0, null, what + "[3, 5, 768]");
        compare(types, new long[] {4, 30, 40}, 0.2, seed, keepMask(seed, 0.2, 120, 40).view(4, 30, 40),
            what + "dropout 0.2");   // the same hash mask as float32
      }
    }
  }

  @Test
  void onTwoThreadsTheColumnSumsAreTheSame() {
    Seeds.fresh("residualLayerNormTwoThreads");
    int before = TorchRuntime.threads();
    try (TensorScope scope = TensorScope.open()) {
      List<Tensor> a = inputs(4, 50, 16), b = copies(a);
      Tensor upstream = torch.randn(4, 50, 16);
      fused(a, 0.1, 7).mul(upstream).sum().backward();
      TorchRuntime.setThreads(2);
      fused(b, 0.1, 7).mul(upstream).sum().backward();
      for (int i = 0; i < 5; i++) {
        assertEquals(0.0, maxAbsDiff(a.get(i).grad(), b.get(i).grad()), 0.0, "input " + i + ": same bits");
      }
    } finally {
      TorchRuntime.setThreads(before);
    }
  }

  @Test
  void dropoutIsTheSeedsHashMaskAndItsGradientsMatchTheSameMaskApplied() {
    long seed = Seeds.fresh("residualLayerNormDropout");
    double p = 0.2;
    long[] shape = {4, 30, 40};
    try (TensorScope scope = TensorScope.open()) {
      Tensor keep = keepMask(seed, p, 120, 40).view(shape);
      // 4,800 Bernoulli(0.8) draws: the dropped fraction has std 0.006 around 0.2
      double dropped = 1 - keep.ne(new Scalar(0.0)).to(torch.ScalarType.Double).mean().item_double();
      assertEquals(p, dropped, 0.03, "fraction of dropped values");
      compare(shape, p, seed, keep, "dropout 0.2");

      try (NoGradGuard noGrad = new NoGradGuard()) {
        List<Tensor> in = inputs(shape);
        Tensor first = fused(in, p, seed), again = fused(in, p, seed), other = fused(in, p, seed + 1);
        assertEquals(0.0, maxAbsDiff(first, again), 0.0, "same seed, same mask");
        assertTrue(maxAbsDiff(first, other) > 1e-3, "another seed, another mask");
        TorchRuntime.seed(seed);
        Tensor drawn = ResidualLayerNorm.apply(in.get(0), in.get(2), in.get(1), in.get(3), in.get(4), EPS, p);
        TorchRuntime.seed(seed);
        Tensor redrawn = ResidualLayerNorm.apply(in.get(0), in.get(2), in.get(1), in.get(3), in.get(4), EPS, p);
        assertEquals(0.0, maxAbsDiff(drawn, redrawn), 0.0, "the generator's manual seed reproduces the draw");
      }
    }
  }

  @Test
  void badShapesAreNamed() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor x = torch.randn(2, 3, 8), c = torch.randn(8);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ResidualLayerNorm.apply(x, c, torch.randn(2, 4, 8), c, c, EPS, 0.0));
      assertEquals("residual LayerNorm: x [2, 3, 8] and residual [2, 4, 8] differ in shape", e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> ResidualLayerNorm.apply(x, torch.randn(7), x, c, c, EPS, 0.0));
      assertEquals("residual LayerNorm: bias, gamma and beta must be [8]; got [7]", e.getMessage());
    }
  }

  /**
   * The kernels' dropout draw (native/src/dropout_hash.h) re-done in Java: the scaled keep mask [rows, cols] of
   * (seed, row, column); kept when the 32-bit draw is at least p * 2^32.
   */
  private static Tensor keepMask(long seed, double p, int rows, int cols) {
    long threshold = (long) ((double) (float) p * 4294967296.0);   // p as the kernel holds it, a float
    float[] mask = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      int key = (int) mix64(seed ^ mix64(r));
      for (int c = 0; c < cols; c++) {
        long draw = Integer.toUnsignedLong(mix32(key ^ (c * 0x9e3779b9)));
        mask[r * cols + c] = draw >= threshold ? (float) (1 / (1 - p)) : 0f;
      }
    }
    return Tensors.floats(mask, rows, cols);
  }

  private static long mix64(long z) {
    z += 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private static int mix32(int x) {
    x ^= x >>> 16;
    x *= 0x7feb352d;
    x ^= x >>> 15;
    x *= 0x846ca68b;
    x ^= x >>> 16;
    return x;
  }
}
