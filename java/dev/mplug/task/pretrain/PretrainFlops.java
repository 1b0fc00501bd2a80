package dev.mplug.task.pretrain;

import dev.mplug.model.MPlugConfig;
import dev.mplug.model.TextConfig;
import dev.mplug.model.VisionConfig;

/**
 * An estimate of the FLOPs one pretraining sample costs (for MFU): matmul FLOPs only (2 per multiply-add) of the
 * linear layers and attention products, summed over the passes the four objectives make; an online pass costs 3x
 * its forward (forward + backward), a momentum pass 1x.
 */
public final class PretrainFlops {
  private PretrainFlops() {}

  /** Forward FLOPs of one transformer layer over n tokens attending to m keys (self: m = n). */
  static double layer(double n, double m, int width, int mlp, boolean cross, int crossKeys) {
    double f = 2 * n * width * 3.0 * width + 2 * n * width * width;   // q, k, v, out projections
    f += 2 * 2 * n * m * width;                                        // scores and weighted sum
    f += 2 * 2 * n * width * mlp;                                      // FFN
    if (cross) f += 2 * n * width * 2.0 * width + 2 * 2.0 * crossKeys * width * width + 2 * 2 * n * crossKeys * width;
    return f;
  }

  static double vision(VisionConfig v) {
    int grid = v.imageRes() / v.patchSize();
    double n = grid * grid + 1;
    double f = 2.0 * grid * grid * 3 * v.patchSize() * v.patchSize() * v.width();  // patch conv
    return f + v.layers() * layer(n, n, v.width(), v.width() * v.mlpRatio(), false, 0);
  }

  static double text(TextConfig t, double tokens, int layers) {
    return layers * layer(tokens, tokens, t.hidden(), t.intermediate(), false, 0);
  }

  static double fusion(TextConfig t, double tokens, double visual) {
    // co-attention layers dominate; count every layer as co-attention over the text plus cross to the image
    return t.fusionLayers() * layer(tokens, tokens, t.hidden(), t.intermediate(), true, (int) visual);
  }

  public static double estimate(MPlugConfig c, int maxTokens, Objectives o) {
    VisionConfig v = c.vision();
    TextConfig t = c.text();
    int grid = v.imageRes() / v.patchSize();
    double nv = grid * grid + 1;
    double tokens = maxTokens;
    double lmHead = 2.0 * tokens * t.hidden() * t.vocab();
    double online = vision(v) + text(t, tokens, t.textEncoderLayers());
    double momentum = vision(v) + text(t, tokens, t.textEncoderLayers());
    if (o.itm()) online += 3 * fusion(t, tokens, nv);
    if (o.mlm()) {
      online += text(t, tokens, t.textEncoderLayers()) + fusion(t, tokens, nv) + lmHead;
      momentum += text(t, tokens, t.textEncoderLayers()) + fusion(t, tokens, nv);
    }
    if (o.prefixLm()) {
      double half = tokens / 2;
      online += text(t, half, t.textEncoderLayers()) + fusion(t, half, nv)
          + t.decoderLayers() * layer(half, half, t.hidden(), t.intermediate(), true, (int) (nv + half))
          + 2.0 * half * t.hidden() * t.vocab();
    }
    return 3 * online + momentum;
  }
}
