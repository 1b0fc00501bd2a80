package dev.mplug.train;

import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.FusedAttention;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.Precision;

/**
 * How to train, validated before any compute. Build it by name with {@link #builder}, whose defaults are the official
 * base pretraining values where they exist:
 *
 * <pre>{@code
 * TrainerConfig c = TrainerConfig.builder(1000).warmupSteps(0).precision("bf16").keepLast(1).build();
 * }</pre>
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
 * @param bucketMb data-parallel gradient bucket size in MiB (PyTorch's default: 25); unused on one process
 * @param findUnusedParameters data parallel: walk each step's loss graph so parameters a step does not use are marked
 *     ready and keep no gradient, as on one process (needed when a step skips part of the model; costs a graph walk
 *     per step)
 * @param zeroStage 1: shard the optimizer state across the ranks (ZeRO stage 1); 0: every rank holds all of it
 * @param attention the fusion layers' attention path ({@link FusedAttention.Mode}): "auto" (the default: the native
 *     fused kernels for bf16 on the CPU, the composite path otherwise), "fused" (the native fused kernels for fp32 and
 *     bf16 CPU tensors, under bf16 autocast too) or "composite" (the reference, op by op over the concatenated streams)
 * @param activationCheckpointing the layer stacks recomputed in backward instead of keeping their activations:
 *     "none", "all", or a comma-separated list of "vit", "text_encoder", "fusion", "decoder"
 *     ({@link ActivationCheckpoint})
 * @param device where the model, batches, losses and optimizer state live: "cpu" or "cuda:N" ({@link ComputeDevice})
 */
public record TrainerConfig(long totalSteps, long warmupSteps, double lr, double visualLr, double warmupLr,
    double minLr, double weightDecay, double clipNorm, int accumulation, String precision, long logEvery,
    long checkpointEvery, int keepLast, int maxNonFiniteInARow, long seed, int bucketMb,
    boolean findUnusedParameters, int zeroStage, String attention, String activationCheckpointing, String device) {

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
    require(precision != null && Precision.byLabel(precision).isPresent(), "precision", precision, Precision.labels());
    require(logEvery >= 1, "log_every", logEvery, ">= 1");
    require(checkpointEvery >= 0, "checkpoint_every", checkpointEvery, ">= 0");
    require(keepLast >= 1, "keep_last", keepLast, ">= 1");
    require(maxNonFiniteInARow >= 1, "max_nonfinite_in_a_row", maxNonFiniteInARow, ">= 1");
    require(bucketMb >= 1, "ddp_bucket_mb", bucketMb, ">= 1");
    require(zeroStage == 0 || zeroStage == 1, "zero_stage", zeroStage, "0 or 1");
    require("auto".equals(attention) || "fused".equals(attention) || "composite".equals(attention), "attention",
        attention, "auto, fused or composite");
    require(activationCheckpointing != null, "activation_checkpointing", null, "none, all or a list of stacks");
    ActivationCheckpoint.parse(activationCheckpointing, "activation_checkpointing");
    require(device != null, "device", null, "cpu or cuda:N");
    ComputeDevice.parse(device, "device");
  }

  private static void require(boolean ok, String key, Object value, String rule) {
    if (!ok) throw new IllegalArgumentException(key + " = " + value + " is invalid: must be " + rule);
  }

  /** Official base pretraining settings over {@code totalSteps} steps (the builder's defaults). */
  public static TrainerConfig official(long totalSteps) {
    return builder(totalSteps).build();
  }

  /** A builder over {@code totalSteps} optimizer steps with the defaults documented on {@link Builder}. */
  public static Builder builder(long totalSteps) {
    return new Builder(totalSteps);
  }

  /** A builder holding this configuration's values, to change a few of them by name. */
  public Builder toBuilder() {
    return new Builder(totalSteps).warmupSteps(warmupSteps).lr(lr).visualLr(visualLr).warmupLr(warmupLr).minLr(minLr)
        .weightDecay(weightDecay).clipNorm(clipNorm).accumulation(accumulation).precision(precision)
        .logEvery(logEvery).checkpointEvery(checkpointEvery).keepLast(keepLast)
        .maxNonFiniteInARow(maxNonFiniteInARow).seed(seed).bucketMb(bucketMb)
        .findUnusedParameters(findUnusedParameters).zeroStage(zeroStage)
        .attention(attention).activationCheckpointing(activationCheckpointing).device(device);
  }

  /**
   * {@link TrainerConfig} by name; {@link #build} validates. Defaults (official mPLUG base pretraining where it has
   * one): warmup min(2000, total) steps, lr 1e-4, visual lr 1e-5, warmup lr 1e-6, min lr 1e-6, weight decay 0.02, no
   * gradient clipping, 1 micro-batch per step, fp32, a metric line every 50 steps, a
   * checkpoint every 1000 steps, 3 checkpoints kept, stop after 10 non-finite steps in a row, seed 42; data
   * parallel: 25 MiB buckets, parameters without a gradient in a step allowed (mPLUG's last fusion layer never
   * uses its cross-attention; PyTorch's default, false, saves a graph walk per step where every parameter is used),
   * the optimizer state not sharded (ZeRO stage 0); composite attention; no activation checkpointing; the CPU.
   */
  public static final class Builder {
    private long totalSteps;
    private Long warmupSteps;   // null: min(2000, totalSteps), decided at build time
    private double lr = 1e-4;
    private double visualLr = 1e-5;
    private double warmupLr = 1e-6;
    private double minLr = 1e-6;
    private double weightDecay = 0.02;
    private double clipNorm = 0;
    private int accumulation = 1;
    private String precision = "fp32";
    private long logEvery = 50;
    private long checkpointEvery = 1000;
    private int keepLast = 3;
    private int maxNonFiniteInARow = 10;
    private long seed = 42;
    private int bucketMb = 25;
    private boolean findUnusedParameters = true;
    private int zeroStage = 0;
    private String attention = "auto";
    private String activationCheckpointing = "none";
    private String device = "cpu";

    private Builder(long totalSteps) {
      this.totalSteps = totalSteps;
    }

    public Builder totalSteps(long v) {
      totalSteps = v;
      return this;
    }

    public Builder warmupSteps(long v) {
      warmupSteps = v;
      return this;
    }

    public Builder lr(double v) {
      lr = v;
      return this;
    }

    public Builder visualLr(double v) {
      visualLr = v;
      return this;
    }

    public Builder warmupLr(double v) {
      warmupLr = v;
      return this;
    }

    public Builder minLr(double v) {
      minLr = v;
      return this;
    }

    public Builder weightDecay(double v) {
      weightDecay = v;
      return this;
    }

    public Builder clipNorm(double v) {
      clipNorm = v;
      return this;
    }

    public Builder accumulation(int v) {
      accumulation = v;
      return this;
    }

    public Builder precision(String v) {
      precision = v;
      return this;
    }

    public Builder logEvery(long v) {
      logEvery = v;
      return this;
    }

    public Builder checkpointEvery(long v) {
      checkpointEvery = v;
      return this;
    }

    public Builder keepLast(int v) {
      keepLast = v;
      return this;
    }

    public Builder maxNonFiniteInARow(int v) {
      maxNonFiniteInARow = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder bucketMb(int v) {
      bucketMb = v;
      return this;
    }

    public Builder findUnusedParameters(boolean v) {
      findUnusedParameters = v;
      return this;
    }

    public Builder zeroStage(int v) {
      zeroStage = v;
      return this;
    }

    public Builder attention(String v) {
      attention = v;
      return this;
    }

    public Builder activationCheckpointing(String v) {
      activationCheckpointing = v;
      return this;
    }

    public Builder device(String v) {
      device = v;
      return this;
    }

    /** The validated configuration; an invalid value is an error naming its key. */
    public TrainerConfig build() {
      long warmup = warmupSteps != null ? warmupSteps : Math.min(2000, totalSteps);
      return new TrainerConfig(totalSteps, warmup, lr, visualLr, warmupLr, minLr, weightDecay, clipNorm, accumulation,
          precision, logEvery, checkpointEvery, keepLast, maxNonFiniteInARow, seed, bucketMb, findUnusedParameters,
          zeroStage, attention, activationCheckpointing, device);
    }
  }

  public LearningRateSchedule schedule(boolean visual) {
    double peak = visual ? visualLr : lr;
    return new LearningRateSchedule(peak, Math.min(warmupLr, peak), warmupSteps, totalSteps, Math.min(minLr, peak));
  }
}
