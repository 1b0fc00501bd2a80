package dev.mplug.model;

import static dev.mplug.model.ConfigChecks.nonNegative;
import static dev.mplug.model.ConfigChecks.positive;

/**
 * Where lambda layers (Bello, "LambdaNetworks: Modeling Long-Range Interactions Without Attention", ICLR 2021) replace
 * full attention over the long visual sequence: the connected-attention layers' joint attention over [V; L]
 * ({@code fusion}, content lambda only: the text tokens carry their positions in their embeddings) and the ViT's
 * self-attention ({@code vision}, content lambda plus position lambdas over a {@code positionWindow} x
 * {@code positionWindow} neighbourhood of the patch grid; 0 = content only). Each lambda layer has the heads of the
 * attention it replaces (multi-query: the heads share one key and one value projection), value depth width / heads,
 * and key depth {@code keyDepth}. Off by default: the official model.
 */
public record LambdaConfig(boolean fusion, boolean vision, int keyDepth, int positionWindow) {
  /** No lambda layers: mPLUG as published. */
  public static final LambdaConfig NONE = new LambdaConfig(false, false, 16, 0);

  public LambdaConfig {
    positive("lambda.key_depth", keyDepth);
    nonNegative("lambda.position_window", positionWindow);
    if (positionWindow > 0 && positionWindow % 2 == 0) {
      throw new IllegalArgumentException("lambda.position_window must be odd (a window centred on each patch), got "
          + positionWindow);
    }
  }

  /** Whether any layer is a lambda layer. */
  public boolean any() {
    return fusion || vision;
  }
}
