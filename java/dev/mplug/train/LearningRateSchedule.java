package dev.mplug.train;

/**
 * Linear warmup then cosine decay, per optimizer step (the pretraining schedule of the spec: warmup from 1e-6 over
 * 2000 iterations to the peak rate, cosine down to 1e-6 by the end of training).
 *
 * @param peak the rate reached at the end of warmup (e.g. 1e-4)
 * @param warmupStart the rate at step 0
 * @param warmupSteps steps of linear warmup (0 = none)
 * @param totalSteps all steps of the run (warmup included); the cosine reaches {@code floor} at this step
 * @param floor the final rate
 */
public record LearningRateSchedule(double peak, double warmupStart, long warmupSteps, long totalSteps, double floor) {
  public LearningRateSchedule {
    if (!(peak > 0)) throw new IllegalArgumentException("lr must be > 0, got " + peak);
    if (warmupStart < 0 || floor < 0) throw new IllegalArgumentException("warmup_lr and min_lr must be >= 0");
    if (warmupSteps < 0) throw new IllegalArgumentException("warmup_steps must be >= 0, got " + warmupSteps);
    if (totalSteps < 1) throw new IllegalArgumentException("total steps must be >= 1, got " + totalSteps);
  }

  /** The rate to use for optimizer step {@code step} (0-based). */
  public double at(long step) {
    if (step < warmupSteps) return warmupStart + (peak - warmupStart) * step / warmupSteps;
    long decaySteps = Math.max(1, totalSteps - warmupSteps);
    double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
    return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
  }
}
