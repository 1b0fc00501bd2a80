package dev.mplug.nn;

import static dev.mplug.testing.TensorAssert.assertClose;
import static dev.mplug.testing.TensorAssert.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.MPlug;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Attention-probability dropout on both paths: the rate and the 1/(1-p) rescaling (read off the probabilities with
 * v = identity), reproducibility from the seed, unbiasedness, and no dropout in eval mode. The two paths draw
 * different masks, so they are compared only in expectation.
 */
class AttentionDropoutTest {
  private static final double P = 0.25;

  private static Tensor run(AttentionCore.Impl impl, Tensor q, Tensor k, Tensor v, double p) {
    AttentionCore.Impl previous = AttentionCore.use(impl);
    try {
      return AttentionCore.apply(q, k, v, null, 1 / Math.sqrt(q.size(3)), false, p);
    } finally {
      AttentionCore.use(previous);
    }
  }

  /** v = I per head, so the output row of query i in head h is that head's probability row: [B, Tq, H*Tk]. */
  private static Tensor identityValues(long b, long h, long tk) {
    return torch.eye(tk).expand(b, h, tk, tk).contiguous();
  }

  @Test
  void dropsAboutPOfTheProbabilitiesAndScalesTheRestBy1OverOneMinusP() {
    Seeds.fresh("dropsAboutPOfTheProbabilities");
    try (TensorScope _ = TensorScope.open()) {
      Tensor q = torch.randn(2, 4, 32, 8);
      Tensor k = torch.randn(2, 4, 32, 8);
      Tensor v = identityValues(2, 4, 32);
      Tensor probs = AttentionCore.composite(q, k, v, null, 1 / Math.sqrt(8), false);     // [2, 32, 4*32]
      assertTrue(probs.min().item_double() > 0, "no probability is zero before dropout");
      for (AttentionCore.Impl impl : AttentionCore.Impl.values()) {
        Tensor dropped = run(impl, q, k, v, P);                                            // [2, 32, 4*32]
        Tensor kept = dropped.ne(new Scalar(0.0));
        // 8192 Bernoulli(0.75) draws: the dropped fraction has std 0.005 around 0.25; 0.03 is six of them
        double droppedFraction = 1 - kept.to(torch.ScalarType.Double).mean().item_double();
        assertEquals(P, droppedFraction, 0.03, impl + ": fraction of dropped probabilities");
        // every kept probability is the undropped one times 1 / (1 - p) = 4/3
        double rescaleError = dropped.sub(probs.mul(new Scalar(1 / (1 - P)))).mul(kept).abs().max().item_double();
        assertTrue(rescaleError < 1e-5, impl + ": kept probabilities scaled by 1/(1-p), max error " + rescaleError);
      }
    }
  }

  @Test
  void theSeedReproducesTheDrawsAndAnotherSeedChangesThem() {
    try (TensorScope _ = TensorScope.open()) {
      TorchRuntime.seed(7);
      Tensor q = torch.randn(1, 2, 6, 8);
      Tensor k = torch.randn(1, 2, 6, 8);
      Tensor v = torch.randn(1, 2, 6, 8);
      for (AttentionCore.Impl impl : AttentionCore.Impl.values()) {
        TorchRuntime.seed(11);
        float[] a = Tensors.toFloats(run(impl, q, k, v, P));
        TorchRuntime.seed(11);
        float[] b = Tensors.toFloats(run(impl, q, k, v, P));
        TorchRuntime.seed(12);
        float[] c = Tensors.toFloats(run(impl, q, k, v, P));
        assertArrayEquals(a, b, 0f, impl + ": same seed, same draws");
        double diff = 0;
        for (int i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - c[i]));
        assertTrue(diff > 1e-3, impl + ": another seed draws another mask (max diff " + diff + ")");
      }
    }
  }

  @Test
  void bothPathsAreUnbiased() {
    Seeds.fresh("bothPathsAreUnbiased");
    try (TensorScope _ = TensorScope.open()) {
      // one problem repeated over 16384 batch rows: each row draws its own mask, the batch mean estimates E[out]
      long n = 16384;
      Tensor q = torch.randn(1, 2, 8, 8).mul(new Scalar(0.5));
      Tensor k = torch.randn(1, 2, 8, 8).mul(new Scalar(0.5));
      Tensor v = torch.randn(1, 2, 8, 8).mul(new Scalar(0.5)).add(new Scalar(1.0));   // outputs near 1
      Tensor expected = AttentionCore.composite(q, k, v, null, 1 / Math.sqrt(8), false); // [1, 8, 16]
      for (AttentionCore.Impl impl : AttentionCore.Impl.values()) {
        Tensor out = run(impl, q.expand(n, 2, 8, 8).contiguous(), k.expand(n, 2, 8, 8).contiguous(),
            v.expand(n, 2, 8, 8).contiguous(), P);                                          // [n, 8, 16]
        assertTrue(maxAbsDiff(out.narrow(0, 0, 1), expected) > 0.05, impl + ": one draw differs from the mean");
        // per-element std of the mean is below 0.005 here; without the 1/(1-p) scaling it would be off by ~0.25
        assertClose(expected, out.sum(0).div(new Scalar((double) n)).unsqueeze(0), 0.03,
            impl + ": mean over draws approaches the output without dropout");
      }
    }
  }

  @Test
  void evalModeTurnsTheConfiguredDropoutOff() {
    Seeds.fresh("evalModeTurnsTheConfiguredDropoutOff");
    BertSelfAttention dropping = new BertSelfAttention(16, 2, 16, 0.5, "attention");
    BertSelfAttention plain = new BertSelfAttention(16, 2, 16, 0.0, "attention");
    Map<String, Tensor> from = MPlug.namedParameters(dropping);
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      for (var e : MPlug.namedParameters(plain).entrySet()) e.getValue().copy_(from.get(e.getKey()));
      Tensor x = torch.randn(2, 5, 16);
      for (AttentionCore.Impl impl : AttentionCore.Impl.values()) {
        AttentionCore.Impl previous = AttentionCore.use(impl);
        try {
          dropping.train(true);
          TorchRuntime.seed(1);
          float[] trained = Tensors.toFloats(dropping.attend(x, dropping.keysValues(x), null));
          dropping.eval();
          plain.eval();
          float[] reference = Tensors.toFloats(plain.attend(x, plain.keysValues(x), null));
          TorchRuntime.seed(1);
          assertArrayEquals(reference, Tensors.toFloats(dropping.attend(x, dropping.keysValues(x), null)), 0f,
              impl + ": eval with p = 0.5 configured equals p = 0");
          assertTrue(!java.util.Arrays.equals(reference, trained), impl + ": training mode does drop");
        } finally {
          AttentionCore.use(previous);
        }
      }
    }
  }

  @Test
  void probabilitiesOutsideZeroToOneAreRejected() {
    try (TensorScope _ = TensorScope.open()) {
      Tensor q = torch.randn(1, 1, 2, 4);
      for (double p : new double[] {-0.1, 1.0}) {
        var composite = assertThrows(IllegalArgumentException.class,
            () -> AttentionCore.composite(q, q, q, null, 1.0, false, p));
        assertTrue(composite.getMessage().contains("[0, 1)"), composite.getMessage());
        var fused = assertThrows(RuntimeException.class,
            () -> dev.mplug.nativeops.NativeOps.attention(q, q, q, null, 1.0, false, p));
        assertTrue(fused.getMessage().contains("dropout_p must be in [0, 1)"), fused.getMessage());
      }
      var module = assertThrows(IllegalArgumentException.class, () -> new BertSelfAttention(8, 2, 8, 1.0, "attention"));
      assertTrue(module.getMessage().contains("attention dropout"), module.getMessage());
    }
  }
}
