package dev.mplug.model;

import org.bytedeco.pytorch.Tensor;

/**
 * One layer of the skip-connected fusion network: takes the vision stream V [B, Nv, H] and the text stream
 * L [B, T, H] with their additive key masks and returns both streams updated.
 */
public sealed interface FusionLayer permits CoAttentionLayer, ConnectedAttentionLayer, LambdaConnectedLayer {
  /** The two streams after a layer. */
  record Streams(Tensor image, Tensor text) {}

  /**
   * @param imageMask additive [B, 1, 1, Nv] (-1e9 on masked keys)
   * @param textMask additive [B, 1, 1, T] (-10000 on padding)
   */
  Streams fuse(Tensor image, Tensor text, Tensor imageMask, Tensor textMask);
}
