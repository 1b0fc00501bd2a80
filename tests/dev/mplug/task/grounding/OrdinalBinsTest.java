package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.TextDecoder;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.Tasks;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The ordinal start of the coordinate tokens: the code's values, its smoothness, and what write() changes. */
class OrdinalBinsTest {
  @Test
  void theCodeIsSinAndCosOfTheBinAtGeometricWavelengths() {
    try (TensorScope _ = TensorScope.open()) {
      float[] c = Tensors.toFloats(OrdinalBins.code(337, 6));                 // 3 pairs: wavelengths 4, ~72.4, 1348
      double[] wavelengths = {4, 4 * Math.sqrt(337), 4 * 337};
      for (int q : new int[] {0, 1, 2, 100, 336}) {
        for (int k = 0; k < 3; k++) {
          double angle = 2 * Math.PI * q / wavelengths[k];
          assertEquals(Math.sin(angle), c[q * 6 + 2 * k], 1e-4, "sin q " + q + " k " + k);
          assertEquals(Math.cos(angle), c[q * 6 + 2 * k + 1], 1e-4, "cos q " + q + " k " + k);
        }
      }
      float[] odd = Tensors.toFloats(OrdinalBins.code(5, 3));
      for (int q = 0; q < 5; q++) assertEquals(0f, odd[q * 3 + 2], "an odd last column is 0");
    }
  }

  @Test
  void neighbouringBinsAreMoreAlikeThanDistantOnes() {
    try (TensorScope _ = TensorScope.open()) {
      float[] c = Tensors.toFloats(OrdinalBins.code(337, 64));
      for (int p : new int[] {10, 168, 300}) {
        double near = dot(c, p, p + 1, 64), mid = dot(c, p, p + 8, 64), far = dot(c, p, (p + 150) % 337, 64);
        assertEquals(32.0, dot(c, p, p, 64), 1e-3, "norm^2 = H/2");
        assertTrue(near > mid && mid > far, "bin " + p + ": " + near + " > " + mid + " > " + far);
      }
    }
  }

  @Test
  void writeReplacesOnlyTheBinRowsAtTheTablesMeanNorm() {
    Seeds.fresh("ordinal bins");
    TextDecoder d = new TextDecoder(FinetuneConfig.defaults("grounding", List.of("model=model-demo")).model().text());
    long vocab = d.config().vocab();
    BoxTokens tokens = new BoxTokens(1, vocab - BoxTokens.TOKENS - 1);
    try (TensorScope _ = TensorScope.open()) {
      Tensor table = d.wordEmbeddingWeight();
      float[] before = Tensors.toFloats(table);
      OrdinalBins.write(d, tokens);
      float[] after = Tensors.toFloats(table);
      int h = (int) table.size(1);
      int first = (int) tokens.firstBinId();
      double othersNorm = 0;
      for (int r = 0; r < vocab; r++) {
        boolean bin = r >= first && r < first + BoxTokens.TOKENS;
        if (!bin) {
          othersNorm += Math.sqrt(dot(before, r, r, h));
          for (int j = 0; j < h; j++) assertEquals(before[r * h + j], after[r * h + j], "row " + r + " unchanged");
        }
      }
      othersNorm /= vocab - BoxTokens.TOKENS;
      for (int q : new int[] {0, 17, 336}) {
        assertEquals(othersNorm, Math.sqrt(dot(after, first + q, first + q, h)), 1e-4, "bin " + q + " norm");
      }
      float[] expected = Tensors.toFloats(OrdinalBins.code(BoxTokens.TOKENS, h));
      double scale = othersNorm / Math.sqrt(h / 2.0);
      for (int j = 0; j < h; j++) assertEquals(expected[5 * h + j] * scale, after[(first + 5) * h + j], 1e-5);
    }
  }

  @Test
  void theConfigKeyTakesPretrainedOrOrdinal() {
    assertEquals(false, task().ordinalBins());
    assertEquals(false, task("grounding.bin_init=pretrained").ordinalBins());
    assertEquals(true, task("grounding.bin_init=ordinal").ordinalBins());
    String e = assertThrows(IllegalArgumentException.class, () -> task("grounding.bin_init=smooth")).getMessage();
    assertEquals("grounding.bin_init must be \"pretrained\" or \"ordinal\", got \"smooth\"", e);
  }

  private static GroundingTask task(String... overrides) {
    return (GroundingTask) Tasks.of(FinetuneConfig.defaults("grounding", List.of(overrides)));
  }

  private static double dot(float[] m, int a, int b, int h) {
    double s = 0;
    for (int j = 0; j < h; j++) s += (double) m[a * h + j] * m[b * h + j];
    return s;
  }
}
