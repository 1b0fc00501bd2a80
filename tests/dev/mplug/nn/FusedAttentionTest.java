package dev.mplug.nn;

import static dev.mplug.testing.TensorAssert.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
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
 * gradients of every query, key and value segment, fp32 within 1e-5 relative (max |diff| over max |reference|), on
 * padded, odd, single-token, unequal-length, batch-1 and multi-block shapes; dropout's rate, scaling, seed
 * reproducibility and gradients; the hooks' state released after backward.
 */
class FusedAttentionTest {
  private static final double REL_TOL = 1e-5;

  /** Segments of one problem: per query segment a length, per key segment a length and its padded tail. */
  private record Shape(long b, long h, long d, long dv, long[] queryLengths, long[] keyLengths, long[] padding) {}

  private static void assertRelClose(Tensor expected, Tensor actual, String what) {
    assertArrayEquals(Tensors.shape(expected), Tensors.shape(actual), what + ": shape");
    double scaleOf = Math.max(expected.abs().max().item_double(), 1e-30);
    double rel = maxAbsDiff(expected, actual) / scaleOf;
    assertTrue(rel <= REL_TOL, what + ": max |diff| / max |expected| = " + rel + " > " + REL_TOL);
  }

  /** [B, H, T, w] as the head-split view of a [B, T, H*w] projection (strided, as the layers pass them). */
  private static Tensor headSplit(long b, long h, long t, long w) {
    return torch.randn(b, t, h * w).view(b, t, h, w).transpose(1, 2).detach().requires_grad_(true);
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
    try (TensorScope scope = TensorScope.open()) {
      List<Tensor> q = new ArrayList<>(), k = new ArrayList<>(), v = new ArrayList<>(), masks = new ArrayList<>();
      for (long tq : s.queryLengths()) q.add(headSplit(s.b(), s.h(), tq, s.d()));
      for (int i = 0; i < s.keyLengths().length; i++) {
        long tk = s.keyLengths()[i];
        k.add(headSplit(s.b(), s.h(), tk, s.d()));
        v.add(headSplit(s.b(), s.h(), tk, s.dv()));
        Tensor keep = torch.ones(s.b(), tk);
        if (s.padding()[i] > 0) keep.narrow(1, tk - s.padding()[i], s.padding()[i]).zero_();   // padded tail
        // the first segment is masked as mPLUG masks image keys (-1e9), the others as text keys (-10000)
        masks.add(Masks.additive(keep, i == 0 ? Masks.CROSS_ATTENTION_MASKED : Masks.SELF_ATTENTION_MASKED,
            q.getFirst()));                                                     // [B, 1, 1, Tk_s]
      }
      List<Tensor> q2 = detachedCopies(q), k2 = detachedCopies(k), v2 = detachedCopies(v);
      double scale = 1 / Math.sqrt(s.d());
      int pendingBefore = FusedAttention.pendingBackwards();

      Tensor joint = AttentionCore.composite(cat(q, 2), cat(k, 2), cat(v, 2), cat(masks, 3), scale, false);
      List<Tensor> fused = FusedAttention.apply(q2, k2, v2, masks, scale, 0.0);
      String what = s.toString().replaceAll("\\[J@\\w+", "") + " q" + Arrays.toString(s.queryLengths()) + " k"
          + Arrays.toString(s.keyLengths());
      Tensor loss1 = null, loss2 = null;
      long start = 0;
      for (int i = 0; i < q.size(); i++) {
        long tq = s.queryLengths()[i];
        Tensor expected = joint.narrow(1, start, tq);                         // [B, Tq_s, H*dv]
        start += tq;
        assertRelClose(expected, fused.get(i), what + " output " + i);
        if (!useEveryOutput && i == 0) continue;                              // segment 0's output unused
        Tensor upstream = torch.randn(expected.sizes());
        Tensor l1 = expected.mul(upstream).sum(), l2 = fused.get(i).mul(upstream).sum();
        loss1 = loss1 == null ? l1 : loss1.add(l1);
        loss2 = loss2 == null ? l2 : loss2.add(l2);
      }
      loss1.backward();
      loss2.backward();
      for (int i = 0; i < q.size(); i++) assertRelClose(q.get(i).grad(), q2.get(i).grad(), what + " dq" + i);
      for (int i = 0; i < k.size(); i++) {
        assertRelClose(k.get(i).grad(), k2.get(i).grad(), what + " dk" + i);
        assertRelClose(v.get(i).grad(), v2.get(i).grad(), what + " dv" + i);
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
