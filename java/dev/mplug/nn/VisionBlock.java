package dev.mplug.nn;

import org.bytedeco.pytorch.Tensor;

/** One pre-LayerNorm block of the vision transformer: tokens [B, 1 + P, W] -> [B, 1 + P, W]. */
public sealed interface VisionBlock permits ResidualAttentionBlock, LambdaResidualBlock {
  Tensor forward(Tensor x);
}
