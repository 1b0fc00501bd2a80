package dev.mplug.task.pretrain;

import dev.mplug.loss.Distillation;
import dev.mplug.loss.ItmNegatives;

/**
 * Which pretraining objectives run and their settings. Build it by name with {@link #builder} (defaults: the official
 * values), e.g. {@code Objectives.builder().queueSize(4096).build()}.
 *
 * @param alpha momentum-distillation weight, reached after {@code alphaRampSteps} (ALBEF ramps it over epoch one)
 * @param momentum EMA factor of the momentum encoders
 * @param queueSize ITC queue length
 * @param maskProbability MLM masking rate
 * @param distillAxis the vocabulary axis by default; the official sequence axis for compatibility
 * @param tempLrScale the ITC temperature's learning rate as a multiple of the base rate (official: 1; short runs at
 *     high rates need less, or the temperature collapses to its clamp before the features align)
 * @param mvm the optional fifth objective, masked vision modeling (off in the published recipe)
 * @param itmNegatives how ITM draws its negatives: by in-batch similarity (official) or uniformly
 */
public record Objectives(boolean itc, boolean itm, boolean mlm, boolean prefixLm, double alpha, long alphaRampSteps,
    double momentum, int queueSize, double maskProbability, Distillation.Axis distillAxis, double tempLrScale,
    MaskedVisionSettings mvm, ItmNegatives.Choice itmNegatives) {

  public Objectives {
    if (mvm == null) throw new IllegalArgumentException("objectives: the masked-vision settings are missing");
    if (!(itc || itm || mlm || prefixLm || mvm.on())) {
      throw new IllegalArgumentException("objectives: enable at least one");
    }
    if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("objectives.alpha = " + alpha + ": must be in [0, 1]");
    if (alphaRampSteps < 0) throw new IllegalArgumentException("objectives.alpha_ramp_steps must be >= 0");
    if (!(momentum >= 0 && momentum <= 1)) throw new IllegalArgumentException("objectives.momentum must be in [0, 1]");
    if (queueSize < 1) throw new IllegalArgumentException("objectives.queue_size must be >= 1");
    if (!(tempLrScale >= 0)) throw new IllegalArgumentException("objectives.temp_lr_scale must be >= 0");
    if (distillAxis == null) throw new IllegalArgumentException("objectives: the distillation axis is missing");
    if (itmNegatives == null) throw new IllegalArgumentException("objectives: the ITM negatives' choice is missing");
    if (!(maskProbability > 0 && maskProbability < 1)) {
      throw new IllegalArgumentException("objectives.mask_prob = " + maskProbability + ": must be in (0, 1)");
    }
  }

  public static Objectives official() {
    return builder().build();
  }

  /** A builder with the defaults documented on {@link Builder}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these settings, to change a few of them by name. */
  public Builder toBuilder() {
    return new Builder().itc(itc).itm(itm).mlm(mlm).prefixLm(prefixLm).alpha(alpha).alphaRampSteps(alphaRampSteps)
        .momentum(momentum).queueSize(queueSize).maskProbability(maskProbability).distillAxis(distillAxis)
        .tempLrScale(tempLrScale).mvm(mvm).itmNegatives(itmNegatives);
  }

  /**
   * {@link Objectives} by name; {@link #build} validates. Defaults (the official ones): all four objectives, alpha 0.4
   * without a ramp, momentum 0.995, a queue of 65536, masking 15% of the tokens, distillation over the vocabulary axis
   * (this code base's default), the temperature at the base learning rate, no masked vision modeling, hard ITM
   * negatives.
   */
  public static final class Builder {
    private boolean itc = true;
    private boolean itm = true;
    private boolean mlm = true;
    private boolean prefixLm = true;
    private double alpha = 0.4;
    private long alphaRampSteps = 0;
    private double momentum = 0.995;
    private int queueSize = 65536;
    private double maskProbability = 0.15;
    private Distillation.Axis distillAxis = Distillation.Axis.VOCABULARY;
    private double tempLrScale = 1.0;
    private MaskedVisionSettings mvm = MaskedVisionSettings.OFF;
    private ItmNegatives.Choice itmNegatives = ItmNegatives.Choice.HARD;

    private Builder() {}

    public Builder itc(boolean on) {
      itc = on;
      return this;
    }

    public Builder itm(boolean on) {
      itm = on;
      return this;
    }

    public Builder mlm(boolean on) {
      mlm = on;
      return this;
    }

    public Builder prefixLm(boolean on) {
      prefixLm = on;
      return this;
    }

    public Builder alpha(double v) {
      alpha = v;
      return this;
    }

    public Builder alphaRampSteps(long v) {
      alphaRampSteps = v;
      return this;
    }

    public Builder momentum(double v) {
      momentum = v;
      return this;
    }

    public Builder queueSize(int v) {
      queueSize = v;
      return this;
    }

    public Builder maskProbability(double v) {
      maskProbability = v;
      return this;
    }

    public Builder distillAxis(Distillation.Axis v) {
      distillAxis = v;
      return this;
    }

    public Builder tempLrScale(double v) {
      tempLrScale = v;
      return this;
    }

    public Builder mvm(MaskedVisionSettings v) {
      mvm = v;
      return this;
    }

    public Builder itmNegatives(ItmNegatives.Choice v) {
      itmNegatives = v;
      return this;
    }

    /** The validated settings; an invalid value is an error naming its key. */
    public Objectives build() {
      return new Objectives(itc, itm, mlm, prefixLm, alpha, alphaRampSteps, momentum, queueSize, maskProbability,
          distillAxis, tempLrScale, mvm, itmNegatives);
    }
  }

  /** The distillation weight at {@code step}: a linear ramp from 0 to alpha. */
  public double alphaAt(long step) {
    return alphaRampSteps == 0 ? alpha : alpha * Math.min(1.0, (double) step / alphaRampSteps);
  }
}
