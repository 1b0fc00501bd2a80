package dev.mplug.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.nn.FusedAttention;
import dev.mplug.testing.Seeds;
import dev.mplug.testing.TensorAssert;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TensorScope;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The whole skip-connected fusion on the fused path against the composite path: both output streams, the gradients of
 * every weight and of both input streams, fp32 within 1e-5 relative (max |diff| over max |composite|). Under bf16
 * autocast (the fused kernels then get bfloat16 projections) both paths are measured against the composite path in
 * fp32: the fused one must be within 1e-2 of it in norm (||diff|| over ||fp32||: single elements of a bf16 computation
 * are a few bfloat16 steps off, about 1% of the largest), or, where bf16 rounding alone is larger (a gradient that is
 * a small difference of large terms, such as a single token's query bias), no further off than twice the composite
 * bf16 path. Eval mode, so that dropout (whose draws the two paths cannot share) is off; gradients are still taken.
 */
class FusedFusionTest {
  private static final double REL_TOL = 1e-5;
  private static final double BF16_REL_TOL = 1e-2;
  // hidden 32, 4 heads, 4 fusion layers at stride 1: co-attention, then three connected layers
  private static final TextConfig TEXT = new TextConfig(32, 4, 64, 128, 32, 2, 1e-12, 0.1, 0.1, 2, 4, 1, 2, 0);

  private record Result(Tensor image, Tensor text, Map<String, Tensor> grads) {}

  private static Result run(SkipConnectedFusion fusion, FusedAttention.Mode mode, Precision precision, Tensor text,
      Tensor textMask, Tensor image, Tensor imageMask, Tensor upImage, Tensor upText) {
    FusedAttention.Mode previous = FusedAttention.use(mode);
    long before = FusedAttention.calls();
    try {
      fusion.zero_grad(true);
      Tensor t = text.detach().clone().requires_grad_(true);
      Tensor v = image.detach().clone().requires_grad_(true);
      SkipConnectedFusion.Output out;
      try (Autocast region = Autocast.cpu(precision)) {
        out = fusion.forward(t, textMask, v, imageMask);
      }
      out.image().mul(upImage).sum().add(out.text().mul(upText).sum()).backward();
      assertEquals(mode == FusedAttention.Mode.FUSED, FusedAttention.calls() > before, mode + " path taken");
      Map<String, Tensor> grads = new LinkedHashMap<>();
      grads.put("input text", t.grad());
      grads.put("input image", v.grad());
      // weights without a gradient (the connected layers' unused cross-attention) are left out
      MPlug.namedParameters(fusion).forEach((name, p) -> {
        if (p.grad().defined()) grads.put(name, p.grad().clone());
      });
      return new Result(out.image(), out.text(), grads);
    } finally {
      FusedAttention.use(previous);
    }
  }


  /**
   * Gradients that are exactly 0 in exact arithmetic: a key bias shifts all scores of a query row equally, which
   * softmax ignores; with a single text token, the co-attention layer's text self-attention has one key, probability
   * 1 whatever the scores, so its query and key projections get no gradient.
   */
  private static boolean analyticallyZero(String name, long textTokens) {
    return name.endsWith("key.bias")
        || (textTokens == 1 && name.matches("encoder\\.layer\\.0\\.attention\\.self\\.(query|key)\\..*"));
  }

  /**
   * fp32: fused within {@link #REL_TOL} of composite. bf16: fused within {@link #BF16_REL_TOL} of the fp32 composite
   * {@code reference} in norm, or within twice the composite bf16 path's own distance from it.
   */
  private static void assertClose(Precision precision, Tensor reference, Tensor composite, Tensor fused, String what) {
    if (precision == Precision.FP32) {
      TensorAssert.assertRelClose(composite, fused, REL_TOL, what);
      return;
    }
    Tensor ref = reference.to(torch.ScalarType.Float);
    double norm = ref.norm().item_double();
    double compositeError = composite.to(torch.ScalarType.Float).sub(ref).norm().item_double() / norm;
    double fusedError = fused.to(torch.ScalarType.Float).sub(ref).norm().item_double() / norm;
    double bound = Math.max(BF16_REL_TOL, 2 * compositeError);
    assertTrue(fusedError <= bound, what + ": ||fused - fp32|| / ||fp32|| = " + fusedError + " > " + bound
        + " (composite bf16: " + compositeError + ")");
  }

  private static void compare(Precision precision, long b, long nv, long t, long[] textPadding) {
    double tolerance = precision == Precision.BF16 ? BF16_REL_TOL : REL_TOL;
    try (TensorScope scope = TensorScope.open()) {
      SkipConnectedFusion fusion = new SkipConnectedFusion(TEXT);
      fusion.eval();
      Tensor text = torch.randn(b, t, 32);
      Tensor image = torch.randn(b, nv, 32);
      Tensor textMask = torch.ones(b, t).to(torch.ScalarType.Long);
      for (int i = 0; i < b; i++) {
        if (textPadding[i] > 0) textMask.get(i).narrow(0, t - textPadding[i], textPadding[i]).zero_();
      }
      Tensor imageMask = torch.ones(b, nv).to(torch.ScalarType.Long);
      Tensor upImage = torch.randn(b, nv, 32), upText = torch.randn(b, t, 32);
      int pendingBefore = FusedAttention.pendingBackwards();
      Result composite = run(fusion, FusedAttention.Mode.COMPOSITE, precision, text, textMask, image, imageMask,
          upImage, upText);
      Result fused = run(fusion, FusedAttention.Mode.FUSED, precision, text, textMask, image, imageMask, upImage,
          upText);
      Result reference = precision == Precision.FP32 ? composite : run(fusion, FusedAttention.Mode.COMPOSITE,
          Precision.FP32, text, textMask, image, imageMask, upImage, upText);
      String what = precision.label() + " B " + b + ", Nv " + nv + ", T " + t;
      assertClose(precision, reference.image(), composite.image(), fused.image(), what + ": image stream");
      assertClose(precision, reference.text(), composite.text(), fused.text(), what + ": text stream");
      assertEquals(composite.grads().keySet(), fused.grads().keySet());
      for (String name : composite.grads().keySet()) {
        if (analyticallyZero(name, t)) {
          // both paths must give rounding noise, small against the value weights' gradient of the same attention
          String value = name.replaceAll("(query|key)\\.(weight|bias)$", "value.weight");
          double scaleOf = composite.grads().get(value).abs().max().item_double();
          for (Result r : new Result[] {composite, fused}) {
            double g = r.grads().get(name).abs().max().item_double();
            assertTrue(g <= tolerance * scaleOf, what + ": grad of " + name + " = " + g + ", not ~0");
          }
          continue;
        }
        assertClose(precision, reference.grads().get(name), composite.grads().get(name), fused.grads().get(name),
            what + ": grad of " + name);
      }
      assertEquals(pendingBefore, FusedAttention.pendingBackwards(), "no hook state left after backward");
    }
  }

  @Test
  void fusedAndCompositeAgreeOnOutputsAndEveryGradient() {
    Seeds.fresh("fusedAndCompositeAgreeOnOutputsAndEveryGradient");
    compare(Precision.FP32, 2, 9, 5, new long[] {0, 2});    // odd lengths, text padding
    compare(Precision.FP32, 1, 7, 1, new long[] {0});       // batch 1, a single text token
    compare(Precision.FP32, 3, 17, 6, new long[] {3, 0, 1}); // more image tokens than one tile
  }

  @Test
  void underBf16AutocastFusedAndCompositeAgreeWithinBf16Rounding() {
    Seeds.fresh("underBf16AutocastFusedAndCompositeAgree");
    compare(Precision.BF16, 2, 9, 5, new long[] {0, 2});
    compare(Precision.BF16, 1, 7, 1, new long[] {0});
    compare(Precision.BF16, 3, 17, 6, new long[] {3, 0, 1});
  }
}
