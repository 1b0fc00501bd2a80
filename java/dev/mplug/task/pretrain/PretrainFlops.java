package dev.mplug.task.pretrain;

import dev.mplug.loss.MaskedVisionModeling;
import dev.mplug.model.LambdaConfig;
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

  /**
   * Forward FLOPs of one transformer layer over n tokens attending to m keys (self: m = n), optionally with a
   * cross-attention block whose n queries attend to {@code crossKeys} keys projected from another stream.
   */
  static double layer(double n, double m, int width, int mlp, boolean cross, double crossKeys) {
    double f = 2 * n * width * 3.0 * width + 2 * n * width * width;   // q, k, v, out projections
    f += 2 * 2 * n * m * width;                                        // scores and weighted sum
    f += 2 * 2 * n * width * mlp;                                      // FFN
    if (cross) f += 2 * n * width * 2.0 * width + 2 * 2.0 * crossKeys * width * width + 2 * 2 * n * crossKeys * width;
    return f;
  }

  /**
   * Forward FLOPs of a layer whose attention is a {@link dev.mplug.nn.LambdaLayer} over n tokens (h heads of key
   * depth k, value depth v = width / h), with position lambdas over {@code positions} tokens in a window x window
   * neighbourhood (0: content lambda only), then the output projection and the FFN: linear in n.
   */
  static double lambdaLayer(double n, int width, int heads, int keyDepth, double positions, int window, int mlp) {
    double v = (double) width / heads;
    double f = 2 * n * width * ((double) heads * keyDepth + keyDepth + v);   // q, k, v projections
    f += 2 * n * keyDepth * v + 2 * n * heads * keyDepth * v;              // content lambda, applied to the queries
    f += 2 * positions * window * window * keyDepth * v                     // position lambdas (the convolution)
        + 2 * positions * heads * keyDepth * v;                             // applied to the queries
    f += 2 * n * width * width;                                             // output projection
    return f + 2 * 2 * n * width * mlp;                                     // FFN
  }

  static double vision(VisionConfig v, LambdaConfig lambda) {
    int grid = v.imageRes() / v.patchSize();
    double n = grid * grid + 1;
    double f = 2.0 * grid * grid * 3 * v.patchSize() * v.patchSize() * v.width();  // patch conv
    double block = lambda.vision()
        ? lambdaLayer(n, v.width(), v.heads(), lambda.keyDepth(), lambda.positionWindow() > 0 ? grid * grid : 0,
            lambda.positionWindow(), v.mlpWidth())
        : layer(n, n, v.width(), v.width() * v.mlpRatio(), false, 0);
    return f + v.layers() * block;
  }

  static double text(TextConfig t, double tokens, int layers) {
    return layers * layer(tokens, tokens, t.hidden(), t.intermediate(), false, 0);
  }

  /**
   * Forward FLOPs of the skip-connected fusion over {@code tokens} text and {@code visual} image tokens, layer by
   * layer as {@link dev.mplug.model.SkipConnectedFusion} builds them: an asymmetric co-attention layer updates only the
   * text (self-attention over the text, cross-attention to the image, FFN on the text); a connected-attention layer
   * runs one self-attention and one FFN over all {@code visual + tokens} tokens (its cross-attention weights idle).
   */
  static double fusion(TextConfig t, double tokens, double visual) {
    return fusion(t, tokens, visual, LambdaConfig.NONE);
  }

  /** {@link #fusion(TextConfig, double, double)} with {@link dev.mplug.model.LambdaConnectedLayer}s if so configured. */
  static double fusion(TextConfig t, double tokens, double visual, LambdaConfig lambda) {
    double f = 0;
    for (int n = 0; n < t.fusionLayers(); n++) {
      if (!t.isConnected(n)) {
        f += coAttentionLayer(t, tokens, visual);
      } else if (lambda.fusion()) {
        f += lambdaLayer(visual + tokens, t.hidden(), t.heads(), lambda.keyDepth(), 0, 0, t.intermediate());
      } else {
        f += connectedAttentionLayer(t, tokens, visual);
      }
    }
    return f;
  }

  /** {@link dev.mplug.model.CoAttentionLayer}: L self-attention, L-to-V cross-attention, FFN on L. */
  static double coAttentionLayer(TextConfig t, double tokens, double visual) {
    return layer(tokens, tokens, t.hidden(), t.intermediate(), true, visual);
  }

  /** {@link dev.mplug.model.ConnectedAttentionLayer}: self-attention and FFN over [V; L]. */
  static double connectedAttentionLayer(TextConfig t, double tokens, double visual) {
    double all = visual + tokens;
    return layer(all, all, t.hidden(), t.intermediate(), false, 0);
  }

  public static double estimate(MPlugConfig c, int maxTokens, Objectives o) {
    VisionConfig v = c.vision();
    TextConfig t = c.text();
    int grid = v.imageRes() / v.patchSize();
    double nv = grid * grid + 1;
    double tokens = maxTokens;
    double lmHead = 2.0 * tokens * t.hidden() * t.vocab();
    LambdaConfig l = c.lambda();
    double online = vision(v, l) + text(t, tokens, t.textEncoderLayers());
    double momentum = vision(v, l) + text(t, tokens, t.textEncoderLayers());
    if (o.itm()) online += 3 * fusion(t, tokens, nv, l);
    if (o.mlm()) {
      online += text(t, tokens, t.textEncoderLayers()) + fusion(t, tokens, nv, l) + lmHead;
      momentum += text(t, tokens, t.textEncoderLayers()) + fusion(t, tokens, nv, l);
    }
    if (o.prefixLm()) {
      double half = tokens / 2;
      online += text(t, half, t.textEncoderLayers()) + fusion(t, half, nv, l)
          + t.decoderLayers() * layer(half, half, t.hidden(), t.intermediate(), true, nv + half)
          + 2.0 * half * t.hidden() * t.vocab();
    }
    if (o.mvm().on()) {   // the masked image through the ViT and the fusion, and the predictor on every patch
      double patches = grid * grid;
      int targetWidth = o.mvm().target() == MaskedVisionModeling.Target.PIXELS ? 3 * v.patchSize() * v.patchSize()
          : t.hidden();
      online += vision(v, l) + fusion(t, tokens, nv, l) + 2 * patches * t.hidden() * targetWidth;
    }
    return 3 * online + momentum;
  }
}
