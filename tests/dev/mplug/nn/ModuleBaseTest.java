package dev.mplug.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** LayerNorm rows with both epsilons, modules built inside a scope survive it, dropout follows train/eval. */
class ModuleBaseTest {
  @Test
  void layerNormNormalisesARowWithTheGivenEpsilon() {
    Module parent = new Module();
    LayerNormImpl bert = ModuleBase.layerNorm(parent, "bert", 4, 1e-12);
    LayerNormImpl clip = ModuleBase.layerNorm(parent, "clip", 2, 1e-5);
    try (TensorScope _ = TensorScope.open()) {
      // [1, 2, 3, 4]: mean 2.5, variance 1.25 -> (x - 2.5) / sqrt(1.25)
      float[] y = Tensors.toFloats(bert.forward(Tensors.floats(new float[] {1, 2, 3, 4}, 1, 4)));
      assertArrayEquals(new float[] {-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f}, y, 1e-6f);
      // a tiny-variance row shows the epsilon: [0, 0.001] has variance 2.5e-7; with eps 1e-5 -> +-0.0005/sqrt(1.025e-5)
      float[] z = Tensors.toFloats(clip.forward(Tensors.floats(new float[] {0f, 0.001f}, 1, 2)));
      assertEquals(-0.0005 / Math.sqrt(2.5e-7 + 1e-5), z[0], 1e-4);
      assertEquals(1e-5, clip.options().eps().get(), 0.0);
      assertEquals(1e-12, bert.options().eps().get(), 0.0);
    }
  }

  @Test
  void modulesBuiltInsideAScopeOutliveIt() {
    BertLayer layer;
    try (TensorScope _ = TensorScope.open()) {
      layer = new BertLayer(8, 2, 16, 1e-12, 0.1, 0.1, 8);
    }
    System.gc();
    try (TensorScope _ = TensorScope.open()) {
      Tensor out = layer.forward(torch.randn(1, 3, 8), null);
      assertArrayEquals(new long[] {1, 3, 8}, Tensors.shape(out));
      assertEquals(26, layer.named_parameters().size(), "attention 10 + crossattention 10 + intermediate 2 + output 4");
    }
  }

  @Test
  void dropoutIsActiveOnlyInTraining() {
    Seeds.fresh("dropoutIsActiveOnlyInTraining");
    BertResidualOutput out = new BertResidualOutput(16, 16, 1e-12, 0.5);
    try (TensorScope _ = TensorScope.open()) {
      Tensor h = torch.randn(2, 5, 16);
      Tensor r = torch.randn(2, 5, 16);
      out.eval();
      float[] a = Tensors.toFloats(out.forward(h, r));
      float[] b = Tensors.toFloats(out.forward(h, r));
      assertArrayEquals(a, b, 0f, "eval is deterministic");
      out.train(true);
      float[] c = Tensors.toFloats(out.forward(h, r));
      float[] d = Tensors.toFloats(out.forward(h, r));
      assertNotEquals(Arrays.toString(c), Arrays.toString(d), "train mode drops at random");
      assertNotEquals(Arrays.toString(a), Arrays.toString(c));
    }
  }

  @Test
  void shapeErrorsNameTheModuleAndBothShapes() {
    BertSelfAttention attn = new BertSelfAttention(8, 2, 8, 0.1, "crossattention");
    try (TensorScope _ = TensorScope.open()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> attn.keysValues(torch.randn(1, 3, 6)));
      assertTrue(e.getMessage().contains("crossattention"), e.getMessage());
      assertTrue(e.getMessage().contains("[*, *, 8]") && e.getMessage().contains("[1, 3, 6]"), e.getMessage());
    }
  }
}
