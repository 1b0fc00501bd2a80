package dev.mplug.nn;

import static dev.mplug.testing.TensorAssert.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.testing.TensorAssert;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The fused segmented attention against the composite reference over the concatenated segments: outputs and the
 * gradients of every query, key and value segment on padded, odd, single-token, unequal-length, batch-1 and
 * multi-block shapes, fp32 within 1e-5 relative (max |diff| over max |reference|), and bfloat16 inputs (as bf16
 * autocast's projections hand them) within 1e-2 of the composite under bf16 autocast; dropout's rate, scaling, seed
 * reproducibility (the same mask in bfloat16 as in float32) and gradients; the hooks' state released after backward.
 */
class FusedAttentionTest {
  private static final double REL_TOL = 1e-5;
  private static final double BF16_REL_TOL = 1e-2;

  /** Segments of one problem: per query segment a length, per key segment a length and its padded tail. */
  private record Shape(long b, long h, long d, long dv, long[] queryLengths, long[] keyLengths, long[] padding) {}

  private static void assertRelClose(Tensor expected, Tensor actual, String what) {
    TensorAssert.assertRelClose(expected, actual, REL_TOL, what);
  }

  /** [B, H, T, w] as the head-split view of a [B, T, H*w] projection (strided, as the layers pass them). */
  private static Tensor headSplit(long b, long h, long t, long w) {
    return headSplit(b, h, t, w, Precision.FP32);
  }

  /** The same in the precision's type: bfloat16, as a projection under bf16 autocast. */
  private static Tensor headSplit(long b, long h, long t, long w, Precision precision) {
    return torch.randn(b, t, h * w).to(precision.dtype()).view(b, t, h, w).transpose(1, 2).detach()
        .requires_grad_(true);
  }

  /**
   * fp32: the fused result within 1e-5 of the composite's. bf16: within 1e-2 of the float32 reference element-wise
   * (max |diff| over max |reference|: the fused kernel computes in float32 and rounds once), and within 1e-2 of the
   * bf16 composite in norm (the composite's bfloat16 scores are themselves off by up to about 1% element-wise).
   */
  private static void check(Precision precision, Tensor composite, Tensor reference, Tensor fused, String what) {
    if (precision == Precision.FP32) {
      assertRelClose(composite, fused, what);
      return;
    }
    TensorAssert.assertRelClose(reference, fused, BF16_REL_TOL, what + " vs float32");
    TensorAssert.assertNormRelClose(composite, fused, BF16_REL_TOL, what + " vs the bf16 composite");
  }

  private static List<Tensor> float32Copies(List<Tensor> xs) {
    List<Tensor> r = new ArrayList<>();
    for (Tensor x : xs) r.add(x.detach().to(torch.ScalarType.Float).requires_grad_(true));
    return r;
  }

  private static List<Tensor> detachedCopies(List<Tensor> xs) {
    List<Tensor> r = new ArrayList<>();
    for (Tensor x : xs) r.add(x.detach().clone().requires_grad_(true));
    return r;
  }

  private static Tensor cat(List<Tensor> xs, long dim) {
    return torch.cat(new TensorVector(xs.toArray(Tensor[]::new)), dim);
  }

  private static void compare(Shape s, boolean useEveryOutput) {
    compare(s, useEveryOutput, Precision.FP32);
  }

  /**
   * In {@link Precision#BF16}: bfloat16 q, k, v and masks, both paths inside a bf16 autocast region (the composite then
   * multiplies in bfloat16 and takes the softmax in float32, as in training); see {@link #check}.
   */
  private static void compare(Shape s, boolean useEveryOutput, Precision precision) {
    try (TensorScope scope = TensorScope.open()) {
      List<Tensor> q = new ArrayList<>(), k = new ArrayList<>(), v = new ArrayList<>(), masks = new ArrayList<>();
      for (long tq : s.queryLengths()) q.add(headSplit(s.b(), s.h(), tq, s.d(), precision));
      for (int i = 0; i < s.keyLengths().length; i++) {
        long tk = s.keyLengths()[i];
        k.add(headSplit(s.b(), s.h(), tk, s.d(), precision));
        v.add(headSplit(s.b(), s.h(), tk, s.dv(), precision));
        Tensor keep = torch.ones(s.b(), tk);
        if (s.padding()[i] > 0) keep.narrow(1, tk - s.padding()[i], s.padding()[i]).zero_();   // padded tail
        // the first segment is masked as mPLUG masks image keys (-1e9), the others as text keys (-10000)
        masks.add(Masks.additive(keep, i == 0 ? Masks.CROSS_ATTENTION_MASKED : Masks.SELF_ATTENTION_MASKED,
            q.getFirst()));                                                     // [B, 1, 1, Tk_s]
      }
      List<Tensor> q2 = detachedCopies(q), k2 = detachedCopies(k), v2 = detachedCopies(v);
      List<Tensor> q3 = float32Copies(q), k3 = float32Copies(k), v3 = float32Copies(v);
      double scale = 1 / Math.sqrt(s.d());
      int pendingBefore = FusedAttention.pendingBackwards();

      Tensor joint;
      List<Tensor> fused;
      try (Autocast region = Autocast.cpu(precision)) {
        joint = AttentionCore.composite(cat(q, 2), cat(k, 2), cat(v, 2), cat(masks, 3), scale, false);
        fused = FusedAttention.apply(q2, k2, v2, masks, scale, 0.0);
      }
      // the composite in float32 on the same values: what the bf16 computations approximate
      Tensor reference = AttentionCore.composite(cat(q3, 2), cat(k3, 2), cat(v3, 2),
          cat(masks, 3).to(torch.ScalarType.Float), scale, false);
      String what = precision.label() + " " + s.toString().replaceAll("\\[J@\\w+", "") + " q"
          + Arrays.toString(s.queryLengths()) + " k" + Arrays.toString(s.keyLengths());
      Tensor loss1 = null, loss2 = null, loss3 = null;
      long start = 0;
      for (int i = 0; i < q.size(); i++) {
        long tq = s.queryLengths()[i];
        Tensor expected = joint.narrow(1, start, tq);                         // [B, Tq_s, H*dv]
        Tensor exact = reference.narrow(1, start, tq);
        start += tq;
        assertEquals(expected.scalar_type().value, fused.get(i).scalar_type().value, what + " output type");
        check(precision, expected, exact, fused.get(i), what + " output " + i);
        if (!useEveryOutput && i == 0) continue;                              // segment 0's output unused
        Tensor upstream = torch.randn(expected.sizes());
        Tensor l1 = expected.mul(upstream).sum(), l2 = fused.get(i).mul(upstream).sum();
        Tensor l3 = exact.mul(upstream).sum();
        loss1 = loss1 == null ? l1 : loss1.add(l1);
        loss2 = loss2 == null ? l2 : loss2.add(l2);
        loss3 = loss3 == null ? l3 : loss3.add(l3);
      }
      loss1.backward();
      loss2.backward();
      loss3.backward();
      for (int i = 0; i < q.size(); i++) {
        check(precision, q.get(i).grad(), q3.get(i).grad(), q2.get(i).grad(), what + " dq" + i);
      }
      for (int i = 0; i < k.size(); i++) {
        check(precision, k.get(i).grad(), k3.get(i).grad(), k2.get(i).grad(), what + " dk" + i);
        check(precision, v.get(i).grad(), v3.get(i).grad(), v2.get(i).grad(), what + " dv" + i);
      }
      assertEquals(pendingBefore, FusedAttention.pendingBackwards(), "the hooks' state is released after backward");
    }
  }

  @Test
  void jointAttentionOverTwoPaddedStreamsMatchesTheConcatenatedComposite() {
    Seeds.fresh("jointAttentionOverTwoPaddedStreams");
    // the connected layer's case: queries [V; L] over keys [V; L], odd lengths, padding in both streams
    compare(new Shape(2, 3, 8, 8, new long[] {7, 5}, new long[] {7, 5}, new long[] {1, 2}), true);
  }

  @Test
  void singleTextTokenBatchOneAndUnequalQueryKeyLengths() {
    Seeds.fresh("singleTextTokenBatchOneAndUnequalLengths");
    compare(new Shape(2, 2, 8, 8, new long[] {9, 1}, new long[] {9, 1}, new long[] {0, 0}), true);  // one text token
    compare(new Shape(1, 4, 16, 16, new long[] {3, 6}, new long[] {11, 6}, new long[] {2, 3}), true); // batch 1
    compare(new Shape(3, 2, 8, 8, new long[] {5}, new long[] {13}, new long[] {4}), true);          // cross-attention
    compare(new Shape(2, 2, 8, 8, new long[] {6}, new long[] {6}, new long[] {2}), true);           // self-attention
  }

  @Test
  void keysSpanningSeveralOnlineSoftmaxBlocksAndOddHeadSizes() {
    Seeds.fresh("keysSpanningSeveralBlocks");
    // 70 + 33 keys: two 64-key blocks and a padded tail; head sizes that are not multiples of the 16-wide tiles
    compare(new Shape(2, 3, 12, 20, new long[] {70, 33}, new long[] {70, 33}, new long[] {0, 5}), true);
  }

  @Test
  void bfloat16MatchesTheCompositeUnderAutocast() {
    Seeds.fresh("bfloat16MatchesTheCompositeUnderAutocast");
    Precision bf16 = Precision.BF16;
    compare(new Shape(2, 3, 8, 8, new long[] {7, 5}, new long[] {7, 5}, new long[] {1, 2}), true, bf16);   // padded
    compare(new Shape(2, 2, 8, 8, new long[] {9, 1}, new long[] {9, 1}, new long[] {0, 0}), true, bf16);   // one token
    compare(new Shape(1, 4, 16, 16, new long[] {3, 6}, new long[] {11, 6}, new long[] {2, 3}), true, bf16); // batch 1
    compare(new Shape(3, 2, 8, 8, new long[] {5}, new long[] {13}, new long[] {4}), true, bf16);            // cross
    compare(new Shape(2, 3, 12, 20, new long[] {70, 33}, new long[] {70, 33}, new long[] {0, 5}), false, bf16);
  }

  @Test
  void onTwoThreadsOfLibtorchsTeam() {
    Seeds.fresh("onTwoThreadsOfLibtorchsTeam");
    int before = TorchRuntime.threads();
    TorchRuntime.setThreads(2);   // the kernel's slices on two threads of libtorch's OpenMP team
    try {
      compare(new Shape(3, 3, 16, 16, new long[] {41, 30}, new long[] {41, 30}, new long[] {3, 4}), true);
    } finally {
      TorchRuntime.setThreads(before);
    }
  }

  @Test
  void anUnusedOutputContributesNoGradient() {
    Seeds.fresh("anUnusedOutputContributesNoGradient");
    compare(new Shape(2, 2, 8, 8, new long[] {6, 4}, new long[] {6, 4}, new long[] {0, 1}), false);
  }

  @Test
  void withoutGradientsNothingIsRecorded() {
    Seeds.fresh("withoutGradientsNothingIsRecorded");
    int pendingBefore = FusedAttention.pendingBackwards();
    try (TensorScope scope = TensorScope.open(); NoGradGuard noGrad = new NoGradGuard()) {
      Tensor q = headSplit(1, 2, 3, 8), k = headSplit(1, 2, 4, 8);
      List<Tensor> out = FusedAttention.apply(List.of(q), List.of(k), List.of(k), Arrays.asList((Tensor) null), 0.5,
          0.0);
      assertTrue(!out.getFirst().requires_grad(), "no graph under no_grad");
      assertEquals(pendingBefore, FusedAttention.pendingBackwards(), "no hooks under no_grad");
      Tensor expected = AttentionCore.composite(q, k, k, null, 0.5, false);
      assertRelClose(expected, out.getFirst(), "no mask");
    }
  }

  /** With v = I per head the output rows are the (dropped, rescaled) probabilities themselves. */
  @Test
  void dropoutIsReproducibleFromTheSeedAndItsGradientsMatchTheSameMaskApplied() {
    long seed = Seeds.fresh("fusedDropout");
    double p = 0.25;
    try (TensorScope scope = TensorScope.open()) {
      long b = 2, h = 2, tv = 20, tl = 12, tk = tv + tl, d = 8;
      List<Tensor> q = List.of(headSplit(b, h, tv, d), headSplit(b, h, tl, d));
      List<Tensor> k = List.of(headSplit(b, h, tv, d), headSplit(b, h, tl, d));
      List<Tensor> none = Arrays.asList(null, null);
      double scale = 1 / Math.sqrt(d);
      // v = the identity over the joint keys, split into the two key segments
      Tensor eye = torch.eye(tk).expand(b, h, tk, tk).contiguous();
      List<Tensor> identity = List.of(eye.narrow(2, 0, tv), eye.narrow(2, tv, tl));
      Tensor dropped, again, other;
      try (NoGradGuard noGrad = new NoGradGuard()) {
        TorchRuntime.seed(seed);
        dropped = cat(FusedAttention.apply(q, k, identity, none, scale, p), 1);   // [B, Tq, H*Tk]
        TorchRuntime.seed(seed);
        again = cat(FusedAttention.apply(q, k, identity, none, scale, p), 1);
        other = cat(FusedAttention.apply(q, k, identity, none, scale, p), 1);
      }
      assertEquals(0.0, maxAbsDiff(dropped, again), 0.0, "same seed, same draws");
      assertTrue(maxAbsDiff(dropped, other) > 0, "the next call draws a new mask");

      Tensor probs = AttentionCore.composite(cat(q, 2), cat(k, 2), eye, null, scale, false).detach();
      Tensor kept = dropped.ne(new Scalar(0.0));
      // 2 x 32 x 2 x 32 = 4096 Bernoulli(0.75) draws: the dropped fraction has std 0.007 around 0.25
      double droppedFraction = 1 - kept.to(torch.ScalarType.Double).mean().item_double();
      assertEquals(p, droppedFraction, 0.04, "fraction of dropped probabilities");
      Tensor keepScaled = kept.to(torch.ScalarType.Float).mul(new Scalar(1 / (1 - p)));   // [B, Tq, H*Tk]
      assertRelClose(probs.mul(keepScaled), dropped, "kept probabilities are scaled by 1/(1-p)");

      // gradients: the same mask applied to softmax(scores) by hand, against the fused op under the same seed
      List<Tensor> v = List.of(headSplit(b, h, tv, d), headSplit(b, h, tl, d));
      List<Tensor> q2 = detachedCopies(q), k2 = detachedCopies(k), v2 = detachedCopies(v);
      Tensor mask = keepScaled.view(b, tv + tl, h, tk).transpose(1, 2);                    // [B, H, Tq, Tk]
      Tensor scores = torch.matmul(cat(q, 2), cat(k, 2).transpose(-2, -1)).mul(new Scalar(scale));
      Tensor expected = torch.matmul(torch.softmax(scores, -1).mul(mask), cat(v, 2))       // [B, H, Tq, d]
          .transpose(1, 2).reshape(b, tv + tl, h * d);
      TorchRuntime.seed(seed);
      Tensor actual = cat(FusedAttention.apply(q2, k2, v2, none, scale, p), 1);
      assertRelClose(expected, actual, "dropout output");
      Tensor upstream = torch.randn(expected.sizes());
      expected.mul(upstream).sum().backward();
      actual.mul(upstream).sum().backward();
      for (int i = 0; i < 2; i++) {
        assertRelClose(q.get(i).grad(), q2.get(i).grad(), "dropout dq" + i);
        assertRelClose(k.get(i).grad(), k2.get(i).grad(), "dropout dk" + i);
        assertRelClose(v.get(i).grad(), v2.get(i).grad(), "dropout dv" + i);
      }
    }
  }

  /**
   * bfloat16 inputs under the same seed: the same dropped probabilities as the float32 call on the same values, the kept
   * ones within 1e-2.
   */
  @Test
  void bfloat16DropoutDrawsTheFloat32MaskForTheSameSeed() {
    long seed = Seeds.fresh("bfloat16FusedDropout");
    double p = 0.25;
    try (TensorScope scope = TensorScope.open(); NoGradGuard noGrad = new NoGradGuard()) {
      long b = 2, h = 2, tv = 20, tl = 11, tk = tv + tl, d = 8;
      Precision bf = Precision.BF16;
      List<Tensor> q = List.of(headSplit(b, h, tv, d, bf), headSplit(b, h, tl, d, bf));
      List<Tensor> k = List.of(headSplit(b, h, tv, d, bf), headSplit(b, h, tl, d, bf));
      Tensor eye = torch.eye(tk).expand(b, h, tk, tk).contiguous().to(torch.ScalarType.BFloat16);
      List<Tensor> identity = List.of(eye.narrow(2, 0, tv), eye.narrow(2, tv, tl));
      List<Tensor> none = Arrays.asList(null, null);
      double scale = 1 / Math.sqrt(d);
      TorchRuntime.seed(seed);
      Tensor fp32 = cat(FusedAttention.apply(float32Copies(q), float32Copies(k), float32Copies(identity), none,
          scale, p), 1);                                                         // [B, Tq, H*Tk]
      TorchRuntime.seed(seed);
      Tensor bf16 = cat(FusedAttention.apply(q, k, identity, none, scale, p), 1);
      TorchRuntime.seed(seed);
      Tensor again = cat(FusedAttention.apply(q, k, identity, none, scale, p), 1);
      assertEquals(torch.ScalarType.BFloat16.value, bf16.scalar_type().value, "bfloat16 in, bfloat16 out");
      assertEquals(0.0, maxAbsDiff(bf16, again), 0.0, "same seed, same bits");
      Tensor dropped = fp32.eq(new Scalar(0.0));
      double droppedFraction = dropped.to(torch.ScalarType.Double).mean().item_double();
      assertEquals(p, droppedFraction, 0.04, "fraction of dropped probabilities");
      assertTrue(dropped.equal(bf16.eq(new Scalar(0.0))), "bfloat16 drops exactly the float32 call's probabilities");
      TensorAssert.assertRelClose(fp32, bf16, BF16_REL_TOL, "kept probabilities in bfloat16");
    }
  }

  @Test
  void autoTakesTheFusedPathForBfloat16OnlyAndFusedForBothTypes() {
    TorchRuntime.load();
    FusedAttention.Mode previous = FusedAttention.use(FusedAttention.Mode.AUTO);
    try (TensorScope scope = TensorScope.open()) {
      Tensor fp32 = torch.zeros(2, 3);
      Tensor bf16 = fp32.to(torch.ScalarType.BFloat16);
      Tensor fp64 = fp32.to(torch.ScalarType.Double);
      assertEquals(List.of(false, true, false), List.of(FusedAttention.enabledFor(fp32), FusedAttention.enabledFor(bf16),
          FusedAttention.enabledFor(fp64)), "auto outside autocast: bf16 tensors only");
      try (Autocast region = Autocast.cpu(Precision.BF16)) {
        assertTrue(FusedAttention.enabledFor(fp32), "auto: the float32 residual stream under bf16 autocast");
      }
      FusedAttention.use(FusedAttention.Mode.FUSED);
      assertEquals(List.of(true, true, false), List.of(FusedAttention.enabledFor(fp32), FusedAttention.enabledFor(bf16),
          FusedAttention.enabledFor(fp64)));
      FusedAttention.use(FusedAttention.Mode.COMPOSITE);
      try (Autocast region = Autocast.cpu(Precision.BF16)) {
        assertEquals(List.of(false, false), List.of(FusedAttention.enabledFor(fp32), FusedAttention.enabledFor(bf16)));
      }
      assertEquals(FusedAttention.Mode.AUTO, FusedAttention.Mode.parse("auto", "attention"));
      assertEquals("attention: expected auto, fused or composite, got 'flash'",
          assertThrows(IllegalArgumentException.class, () -> FusedAttention.Mode.parse("flash", "attention"))
              .getMessage());
    } finally {
      FusedAttention.use(previous);
    }
  }

  @Test
  void badShapesNameTheSegment() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor q = torch.randn(2, 3, 4, 8), k = torch.randn(2, 3, 5, 8), v = torch.randn(2, 3, 6, 8);
      TorchException e = assertThrows(TorchException.class, () -> FusedAttention.apply(List.of(q), List.of(k),
          List.of(v), Arrays.asList((Tensor) null), 1.0, 0.0));
      assertTrue(e.getMessage().contains("v[0] has shape [2, 3, 6, 8]"), e.getMessage());
      Tensor wide = torch.randn(2, 3, 5, 9);
      e = assertThrows(TorchException.class, () -> FusedAttention.apply(List.of(q), List.of(wide), List.of(k),
          Arrays.asList((Tensor) null), 1.0, 0.0));
      assertTrue(e.getMessage().contains("k[0] has shape [2, 3, 5, 9]"), e.getMessage());
      Tensor doubles = torch.randn(2, 3, 4, 8).to(torch.ScalarType.Double);
      e = assertThrows(TorchException.class, () -> FusedAttention.apply(List.of(doubles), List.of(k), List.of(k),
          Arrays.asList((Tensor) null), 1.0, 0.0));
      assertTrue(e.getMessage().contains("q[0]: must be float32 or bfloat16"), e.getMessage());
    }
  }
}
