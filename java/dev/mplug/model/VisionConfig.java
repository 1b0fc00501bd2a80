package dev.mplug.model;

import static dev.mplug.model.ConfigChecks.divisible;
import static dev.mplug.model.ConfigChecks.positive;
import static dev.mplug.model.ConfigChecks.probability;

/**
 * The CLIP vision transformer: {@code image_res / patch_size} patches per side, {@code layers} pre-LN blocks of
 * {@code width} features and {@code heads} heads, MLP width {@code mlp_ratio * width}. LayerNorm eps is CLIP's 1e-5.
 *
 * @param attentionDropout attention-probability dropout in training (the official copy uses 0.1)
 */
public record VisionConfig(int imageRes, int patchSize, int width, int layers, int heads, int mlpRatio,
    double attentionDropout) {
  /** CLIP's LayerNorm epsilon (every vision LayerNorm). */
  public static final double LAYER_NORM_EPS = 1e-5;

  public VisionConfig {
    positive("vision.image_res", imageRes);
    positive("vision.patch_size", patchSize);
    positive("vision.width", width);
    positive("vision.layers", layers);
    positive("vision.heads", heads);
    positive("vision.mlp_ratio", mlpRatio);
    probability("vision.attention_dropout", attentionDropout);
    divisible("vision.image_res", imageRes, "vision.patch_size", patchSize);
    divisible("vision.width", width, "vision.heads", heads);
  }

  /** ViT-B/16 at the fine-tuning resolution 384 (577 tokens). */
  public static VisionConfig vitB16() {
    return new VisionConfig(384, 16, 768, 12, 12, 4, 0.1);
  }

  /** ViT-L/14 at the fine-tuning resolution 336 (577 tokens). */
  public static VisionConfig vitL14() {
    return new VisionConfig(336, 14, 1024, 24, 16, 4, 0.1);
  }

  /** Patches per side. */
  public int grid() {
    return imageRes / patchSize;
  }

  public int numPatches() {
    return grid() * grid();
  }

  /** Class token + patches. */
  public int tokens() {
    return numPatches() + 1;
  }

  public int mlpWidth() {
    return mlpRatio * width;
  }

  public VisionConfig withImageRes(int res) {
    return new VisionConfig(res, patchSize, width, layers, heads, mlpRatio, attentionDropout);
  }
}
