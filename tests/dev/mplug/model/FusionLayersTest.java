package dev.mplug.model;

import static dev.mplug.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.nn.Masks;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The skip-connected fusion: layer kinds by the stride rule, V untouched by co-attention, V + V_out after connected. */
class FusionLayersTest {
  private static final TextConfig TEXT = MPlugConfig.tiny().text();   // hidden 32, 3 fusion layers, stride 2

  @Test
  void strideRuleChoosesTheLayerKinds() {
    List<FusionLayer> s3 = new SkipConnectedFusion(TEXT.withStrideLayer(3)).layers();
    assertEquals(3, s3.size());
    s3.forEach(l -> assertInstanceOf(CoAttentionLayer.class, l));
    TextConfig six = new TextConfig(32, 4, 64, 128, 32, 2, 1e-12, 0.1, 0.1, 2, 6, 3, 2, 0);
    List<FusionLayer> base = new SkipConnectedFusion(six).layers();
    for (int n = 0; n < 6; n++) {
      assertEquals(n == 3, base.get(n) instanceof ConnectedAttentionLayer, "base pattern co,co,co,CONN,co,co at " + n);
    }
    List<FusionLayer> s1 = new SkipConnectedFusion(six.withStrideLayer(1)).layers();
    for (int n = 0; n < 6; n++) assertEquals(n > 0, s1.get(n) instanceof ConnectedAttentionLayer, "stride 1 at " + n);
  }

  @Test
  void coAttentionLeavesTheImageStreamBitIdenticalAndConnectedAddsItsOutput() {
    Seeds.fresh("fusion layers");
    SkipConnectedFusion fusion = new SkipConnectedFusion(TEXT);   // co, co, CONN
    fusion.eval();
    try (TensorScope _ = TensorScope.open()) {
      Tensor text = torch.randn(2, 5, 32);
      Tensor image = torch.randn(2, 7, 32);
      Tensor textMask = Tensors.longs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2, 5);
      Tensor imageMask = torch.ones(2, 7).to(torch.ScalarType.Long);
      SkipConnectedFusion.Output out = fusion.forward(text, textMask, image, imageMask);
      assertArrayEquals(Tensors.toFloats(image), Tensors.toFloats(out.imageLayers().get(0)), 0f, "co-attention 0");
      assertArrayEquals(Tensors.toFloats(image), Tensors.toFloats(out.imageLayers().get(1)), 0f, "co-attention 1");
      double moved = out.imageLayers().get(2).sub(image).abs().max().item_double();
      assertTrue(moved > 1e-3, "the connected layer changes V (max change " + moved + ")");
      assertArrayEquals(Tensors.toFloats(out.imageLayers().get(2)), Tensors.toFloats(out.image()), 0f);
      assertArrayEquals(Tensors.toFloats(out.textLayers().get(2)), Tensors.toFloats(out.text()), 0f);

      // connected layer by its definition: Y = FFN(SelfAttn([V; L], [image mask; text mask])); V' = V + Y_V; L' = Y_L
      ConnectedAttentionLayer conn = (ConnectedAttentionLayer) fusion.layers().get(2);
      Tensor v = out.imageLayers().get(1);
      Tensor l = out.textLayers().get(1);
      Tensor m = torch.cat(new TensorVector(Masks.additive(imageMask, Masks.CROSS_ATTENTION_MASKED, v),
          Masks.additive(textMask, Masks.SELF_ATTENTION_MASKED, l)), 3);
      Tensor y = conn.feedForward(conn.attention().forward(torch.cat(new TensorVector(v, l), 1), m));
      assertClose(v.add(y.narrow(1, 0, 7)), out.image(), 1e-6, "V' = V + V_out");
      assertClose(y.narrow(1, 7, 5), out.text(), 1e-6, "L' = Y_L");

      // co-attention layer by its definition: self-attention on L, cross-attention to V, FFN
      CoAttentionLayer co = (CoAttentionLayer) fusion.layers().get(0);
      Tensor a = co.attention().forward(text, Masks.additive(textMask, Masks.SELF_ATTENTION_MASKED, text));
      Tensor c = co.crossAttention().forward(a, image, Masks.additive(imageMask, Masks.CROSS_ATTENTION_MASKED, a));
      assertClose(co.feedForward(c), out.textLayers().get(0), 1e-6, "co-attention text stream");
    }
  }

  @Test
  void paddedTextPositionsDoNotInfluenceRealOnes() {
    Seeds.fresh("fusion padding");
    SkipConnectedFusion fusion = new SkipConnectedFusion(TEXT);
    fusion.eval();
    try (TensorScope _ = TensorScope.open()) {
      Tensor text = torch.randn(1, 6, 32);
      Tensor image = torch.randn(1, 5, 32);
      Tensor mask = Tensors.longs(new long[] {1, 1, 1, 1, 0, 0}, 1, 6);
      Tensor ones = torch.ones(1, 5).to(torch.ScalarType.Long);
      SkipConnectedFusion.Output a = fusion.forward(text, mask, image, ones);
      Tensor other = text.clone();
      other.narrow(1, 4, 2).copy_(torch.randn(1, 2, 32).mul(new Scalar(10)));
      SkipConnectedFusion.Output b = fusion.forward(other, mask, image, ones);
      assertClose(a.text().narrow(1, 0, 4), b.text().narrow(1, 0, 4), 1e-6, "real text positions");
      assertClose(a.image(), b.image(), 1e-6, "image stream (it attends to real text keys only)");
      assertTrue(a.text().narrow(1, 4, 2).sub(b.text().narrow(1, 4, 2)).abs().max().item_double() > 1e-3,
          "padded positions are still computed as queries");
    }
  }
}
