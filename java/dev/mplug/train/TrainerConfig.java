package dev.mplug.train;

/**
 * How to train, validated before any compute. Defaults are the official base pretraining values where they exist.
 *
 * @param totalSteps optimizer steps of the whole run
 * @param warmupSteps linear warmup from {@code warmupLr} (official: 2000)
 * @param lr peak rate of the non-visual parameters (official: 1e-4)
 * @param visualLr peak rate of the vision transformer (official: 1e-5)
 * @param warmupLr rate at step 0 (official: 1e-6)
 * @param minLr final rate of the cosine (official: 1e-6)
 * @param weightDecay AdamW decay, not applied to biases and LayerNorm weights (official: 0.02)
 * @param clipNorm max global gradient norm (0 = no clipping)
 * @param accumulation micro-batches per optimizer step
 * @param precision "fp32" or "bf16" (CPU autocast)
 * @param logEvery steps between metric lines
 * @param checkpointEvery steps between checkpoints (0 = only at the end)
 * @param keepLast checkpoints kept besides the best
 * @param maxNonFiniteInARow stop after this many consecutive non-finite losses or gradients
 * @param seed the run's seed
 */
public record TrainerConfig(long totalSteps, long warmupSteps, double lr, double visualLr, double warmupLr,
    double minLr, double weightDecay, double clipNorm, int accumulation, String precision, long logEvery,
    long checkpointEvery, int keepLast, int maxNonFiniteInARow, long seed) {

  public TrainerConfig {
    require(totalSteps >= 1, "total_steps", totalSteps, ">= 1");
    require(warmupSteps >= 0 && warmupSteps <= totalSteps, "warmup_steps", warmupSteps, "in [0, total_steps]");
    require(lr > 0, "lr", lr, "> 0");
    require(visualLr > 0, "visual_lr", visualLr, "> 0");
    require(warmupLr >= 0 && warmupLr <= lr, "warmup_lr", warmupLr, "in [0, lr]");
    require(minLr >= 0 && minLr <= lr, "min_lr", minLr, "in [0, lr]");
    require(weightDecay >= 0, "weight_decay", weightDecay, ">= 0");
    require(clipNorm >= 0, "clip_norm", clipNorm, ">= 0");
    require(accumulation >= 1, "accumulation", accumulation, ">= 1");
    require(precision.equals("fp32") || precision.equals("bf16"), "precision", precision, "fp32 or bf16");
    require(logEvery >= 1, "log_every", logEvery, ">= 1");
    require(checkpointEvery >= 0, "checkpoint_every", checkpointEvery, ">= 0");
    require(keepLast >= 1, "keep_last", keepLast, ">= 1");
    require(maxNonFiniteInARow >= 1, "max_nonfinite_in_a_row", maxNonFiniteInARow, ">= 1");
  }

  private static void require(boolean ok, String key, Object value, String rule) {
    if (!ok) throw new IllegalArgumentException(key + " = " + value + " is invalid: must be " + rule);
  }

  /** Official base pretraining settings over {@code totalSteps} steps. */
  public static TrainerConfig official(long totalSteps) {
    return new TrainerConfig(totalSteps, Math.min(2000, totalSteps), 1e-4, 1e-5, 1e-6, 1e-6, 0.02, 0, 1, "fp32",
        50, 1000, 3, 10, 42);
  }

  public LearningRateSchedule schedule(boolean visual) {
    double peak = visual ? visualLr : lr;
    return new LearningRateSchedule(peak, Math.min(warmupLr, peak), warmupSteps, totalSteps, Math.min(minLr, peak));
  }
}
