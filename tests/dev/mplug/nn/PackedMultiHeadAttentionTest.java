package dev.mplug.nn;

import static dev.mplug.testing.TensorAssert.assertClose;

import dev.mplug.model.MPlug;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import java.util.Map;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** CLIP attention against a per-head reference written from the definition, on both attention paths. */
class PackedMultiHeadAttentionTest {
  @Test
  void matchesPerHeadReference() {
    Seeds.fresh("PackedMultiHeadAttention");
    int w = 12, heads = 3, d = 4;
    PackedMultiHeadAttention attn = new PackedMultiHeadAttention(w, heads, 0.0);
    Map<String, Tensor> p = MPlug.namedParameters(attn);
    try (TensorScope _ = TensorScope.open()) {
      try (var _ = new NoGradGuard()) {
        p.get("in_proj_bias").normal_(0, 0.5, new GeneratorOptional());
        p.get("in_proj_weight").normal_(0, 0.5, new GeneratorOptional());
      }
      Tensor x = torch.randn(2, 5, w);
      Tensor wIn = p.get("in_proj_weight");
      Tensor bIn = p.get("in_proj_bias");
      TensorVector outs = new TensorVector();
      for (int h = 0; h < heads; h++) {
        // head h: rows h*d.. of each of the q / k / v blocks
        Tensor q = torch.matmul(x, wIn.narrow(0, h * d, d).t()).add(bIn.narrow(0, h * d, d));
        Tensor k = torch.matmul(x, wIn.narrow(0, w + h * d, d).t()).add(bIn.narrow(0, w + h * d, d));
        Tensor v = torch.matmul(x, wIn.narrow(0, 2 * w + h * d, d).t()).add(bIn.narrow(0, 2 * w + h * d, d));
        Tensor a = torch.softmax(torch.matmul(q, k.transpose(1, 2)).div(new Scalar(Math.sqrt(d))), -1);
        outs.push_back(torch.matmul(a, v));
      }
      Tensor concat = torch.cat(outs, 2);
      Tensor expected = torch.matmul(concat, p.get("out_proj.weight").t()).add(p.get("out_proj.bias"));
      for (AttentionCore.Impl impl : AttentionCore.Impl.values()) {
        AttentionCore.Impl previous = AttentionCore.use(impl);
        try {
          assertClose(expected, attn.forward(x), 1e-5, impl.toString());
        } finally {
          AttentionCore.use(previous);
        }
      }
    }
  }
}
