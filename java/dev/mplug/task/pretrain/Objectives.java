package dev.mplug.task.pretrain;

import dev.mplug.loss.Distillation;

/**
 * Which pretraining objectives run and their settings (defaults: the official values).
 *
 * @param alpha momentum-distillation weight, reached after {@code alphaRampSteps} (ALBEF ramps it over epoch one)
 * @param momentum EMA factor of the momentum encoders
 * @param queueSize ITC queue length
 * @param maskProbability MLM masking rate
 * @param distillAxis the vocabulary axis by default; the official sequence axis for compatibility
 * @param tempLrScale the ITC temperature's learning rate as a multiple of the base rate (official: 1; short runs at
 *     high rates need less, or the temperature collapses to its clamp before the features align)
 */
public record Objectives(boolean itc, boolean itm, boolean mlm, boolean prefixLm, double alpha, long alphaRampSteps,
    double momentum, int queueSize, double maskProbability, Distillation.Axis distillAxis, double tempLrScale) {

  public Objectives {
    if (!(itc || itm || mlm || prefixLm)) throw new IllegalArgumentException("objectives: enable at least one");
    if (alpha < 0 || alpha > 1) throw new IllegalArgumentException("objectives.alpha = " + alpha + ": must be in [0, 1]");
    if (alphaRampSteps < 0) throw new IllegalArgumentException("objectives.alpha_ramp_steps must be >= 0");
    if (momentum < 0 || momentum > 1) throw new IllegalArgumentException("objectives.momentum must be in [0, 1]");
    if (queueSize < 1) throw new IllegalArgumentException("objectives.queue_size must be >= 1");
    if (!(tempLrScale >= 0)) throw new IllegalArgumentException("objectives.temp_lr_scale must be >= 0");
    if (maskProbability <= 0 || maskProbability >= 1) {
      throw new IllegalArgumentException("objectives.mask_prob = " + maskProbability + ": must be in (0, 1)");
    }
  }

  public static Objectives official() {
    return new Objectives(true, true, true, true, 0.4, 0, 0.995, 65536, 0.15, Distillation.Axis.VOCABULARY, 1.0);
  }

  /** The distillation weight at {@code step}: a linear ramp from 0 to alpha. */
  public double alphaAt(long step) {
    return alphaRampSteps == 0 ? alpha : alpha * Math.min(1.0, (double) step / alphaRampSteps);
  }
}
