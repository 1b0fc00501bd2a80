package dev.mplug.task.retrieval;

import dev.mplug.model.MPlug;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Image-text retrieval inference as the official code does it: ITC similarities for every pair, then for every query
 * the top-k candidates re-scored by the ITM "match" logit; all other candidates score -100.
 */
public final class RetrievalScorer {
  /**
   * Scores [images][texts] and [texts][images] after the ITM re-ranking, and the ITC similarities alone
   * ({@code itcI2t} [images][texts]) that chose the candidates.
   */
  public record Scores(float[][] i2t, float[][] t2i, float[][] itcI2t) {
    /** The ITC similarities [texts][images]: the transpose of {@link #itcI2t}. */
    public float[][] itcT2i() {
      int n = itcI2t.length;
      int m = n == 0 ? 0 : itcI2t[0].length;
      float[][] out = new float[m][n];
      for (int i = 0; i < n; i++) {
        for (int t = 0; t < m; t++) out[t][i] = itcI2t[i][t];
      }
      return out;
    }
  }

  private RetrievalScorer() {}

  /**
   * @param images normalised images [N, 3, R, R]
   * @param textIds [M, T] int64; textMask [M, T]
   * @param k candidates re-ranked per query
   */
  public static Scores score(MPlug model, Tensor images, Tensor textIds, Tensor textMask, int k) {
    boolean wasTraining = model.is_training();
    model.eval();
    try (NoGradGuard guard = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      Tensor vision = model.visionEmbeds(model.visionTokens(images));               // [N, Nv, H]
      Tensor text = model.textEmbeds(textIds, textMask);                            // [M, T, H]
      Tensor sims = torch.matmul(model.imageFeatures(vision), model.textFeatures(text).t());   // [N, M]
      float[] flat = Tensors.toFloats(sims);
      int n = (int) sims.size(0);
      int m = (int) sims.size(1);
      float[][] i2t = filled(n, m);
      float[][] t2i = filled(m, n);
      int kt = Math.min(k, m);
      int ki = Math.min(k, n);
      for (int i = 0; i < n; i++) {
        int[] top = topK(flat, i * m, m, 1, kt);
        float[] itm = matchScores(model, vision, i, text, textMask, top, true);
        for (int j = 0; j < top.length; j++) i2t[i][top[j]] = itm[j];
      }
      for (int t = 0; t < m; t++) {
        int[] top = topK(flat, t, n, m, ki);
        float[] itm = matchScores(model, vision, t, text, textMask, top, false);
        for (int j = 0; j < top.length; j++) t2i[t][top[j]] = itm[j];
      }
      float[][] itcI2t = new float[n][];
      for (int i = 0; i < n; i++) itcI2t[i] = Arrays.copyOfRange(flat, i * m, (i + 1) * m);
      return new Scores(i2t, t2i, itcI2t);
    } finally {
      model.train(wasTraining);
    }
  }

  /** ITM logit of class 1 for query {@code q} against {@code candidates} (texts when imageQuery, else images). */
  private static float[] matchScores(MPlug model, Tensor vision, int q, Tensor text, Tensor textMask,
      int[] candidates, boolean imageQuery) {
    try (TensorScope scope = TensorScope.open()) {
      Tensor idx = Tensors.longs(Arrays.stream(candidates).asLongStream().toArray(), candidates.length);
      Tensor qIdx = Tensors.longs(new long[] {q}, 1);
      long c = candidates.length;
      Tensor img = imageQuery ? vision.index_select(0, qIdx).expand(new long[] {c, -1, -1}, false) : vision.index_select(0, idx);
      Tensor txt = imageQuery ? text.index_select(0, idx) : text.index_select(0, qIdx).expand(new long[] {c, -1, -1}, false);
      Tensor msk = imageQuery ? textMask.index_select(0, idx) : textMask.index_select(0, qIdx).expand(new long[] {c, -1}, false);
      SkipConnectedFusion.Output fused = model.fuse(txt.contiguous(), msk.contiguous(), img.contiguous(),
          MPlug.imageMask(img));
      return Tensors.toFloats(model.itmLogits(fused.text()).select(1, 1));
    }
  }

  private static float[][] filled(int rows, int cols) {
    float[][] out = new float[rows][cols];
    for (float[] r : out) Arrays.fill(r, -100f);
    return out;
  }

  /** Indices of the k largest of {@code count} values at {@code offset + j * stride}. */
  static int[] topK(float[] values, int offset, int count, int stride, int k) {
    Integer[] order = new Integer[count];
    for (int j = 0; j < count; j++) order[j] = j;
    Arrays.sort(order, (a, b) -> Float.compare(values[offset + b * stride], values[offset + a * stride]));
    int[] out = new int[k];
    for (int j = 0; j < k; j++) out[j] = order[j];
    return out;
  }
}
