package dev.mplug.model;

import static dev.mplug.model.ConfigChecks.nonNegative;
import static dev.mplug.model.ConfigChecks.positive;

/**
 * Decoding settings of the official {@code TextGenerator}: sequences start with {@code startToken} ([CLS] = 101),
 * end with {@code endToken} ([SEP] = 102), which is forbidden while fewer than {@code minLength} tokens were
 * generated; at most {@code maxLength} tokens are generated; hypotheses are scored with the GNMT length penalty
 * {@code ((5 + len) / 6) ^ alpha}.
 */
public record GenerationConfig(int beamSize, int minLength, int maxLength, int startToken, int endToken,
    double lengthPenaltyAlpha) {
  public GenerationConfig {
    positive("generation.beam_size", beamSize);
    nonNegative("generation.min_length", minLength);
    positive("generation.max_length", maxLength);
    nonNegative("generation.start_token", startToken);
    nonNegative("generation.end_token", endToken);
    if (!(lengthPenaltyAlpha >= 0) || Double.isInfinite(lengthPenaltyAlpha)) {
      throw new IllegalArgumentException("generation.length_penalty_alpha must be >= 0, got " + lengthPenaltyAlpha);
    }
    if (minLength > maxLength) {
      throw new IllegalArgumentException("generation.min_length (" + minLength + ") must be <= generation.max_length ("
          + maxLength + ")");
    }
  }

  /** VQA: beam 5, at most 10 answer tokens. */
  public static GenerationConfig vqa() {
    return new GenerationConfig(5, 1, 10, 101, 102, 0.6);
  }

  /** COCO captioning: beam 5, 8 to 25 tokens. */
  public static GenerationConfig caption() {
    return new GenerationConfig(5, 8, 25, 101, 102, 0.6);
  }

  /** The length penalty after {@code generated} tokens. */
  public double lengthPenalty(int generated) {
    return Math.pow((5.0 + generated) / 6.0, lengthPenaltyAlpha);
  }

  public GenerationConfig withBeamSize(int beams) {
    return new GenerationConfig(beams, minLength, maxLength, startToken, endToken, lengthPenaltyAlpha);
  }
}
