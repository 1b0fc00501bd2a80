package dev.mplug.data.synth;

import dev.mplug.data.synth.Vocabulary.Background;

/**
 * The background of a scene: one grey (plain), a ramp between two greys (gradient, horizontal or vertical), or a grey
 * with per-pixel noise drawn by OpenCV's RNG from {@code noiseSeed} (noise). Greys stay low in saturation so that the
 * shapes' colours are the only colours in the picture.
 */
public record Backdrop(Background kind, int grey1, int grey2, boolean vertical, long noiseSeed) {
  /** Noise amplitude (uniform in +- this, per channel). */
  public static final int NOISE = 24;
}
