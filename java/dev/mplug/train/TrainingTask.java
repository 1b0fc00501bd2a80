package dev.mplug.train;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What the trainer trains: the model's named parameters (official names, for the optimizer groups), the losses of
 * one micro-batch, and any extra state a checkpoint must hold (momentum model, queues).
 */
public interface TrainingTask<B> extends AutoCloseable {
  /** Trainable parameters by name. */
  Map<String, Tensor> parameters();

  /** Named losses of one micro-batch (summed for the update); called inside a TensorScope, in train mode. */
  Map<String, Tensor> losses(B batch, long step);

  /** After every optimizer step: e.g. the momentum EMA and the temperature clamp. */
  default void afterOptimizerStep(long step) {}

  /**
   * Parameters that train at a multiple of the base learning rate (in their own no-decay group), e.g. the ITC
   * temperature; empty = the official groups only.
   */
  default Map<String, Double> learningRateScales() {
    return Map.of();
  }

  /** Scalars worth logging besides the losses (e.g. the ITC temperature). */
  default Map<String, Double> metrics() {
    return Map.of();
  }

  /** Extra tensors the checkpoint must hold (the trainer stores and restores them by name). */
  default Map<String, Tensor> stateTensors() {
    return Map.of();
  }

  /** Extra scalar state (e.g. a queue pointer). */
  default Map<String, Long> stateCounters() {
    return Map.of();
  }

  /** Restores what {@link #stateTensors()} and {@link #stateCounters()} returned. */
  default void loadState(Map<String, Tensor> tensors, Map<String, Long> counters) {}

  /** Approximate training FLOPs per sample (forward + backward) for the MFU figure; 0 = unknown. */
  default double flopsPerSample() {
    return 0;
  }

  /** Samples in one micro-batch. */
  int batchSize(B batch);

  /** The model config as text, stored with checkpoints so a resume can check it fits. */
  String configText();

  /**
   * The downstream task this objective trains ("vqa", "caption", ...), stored with checkpoints so that inference can
   * tell tasks apart whose models have the same parts (VQA and grounding); empty for none (pretraining).
   */
  default String taskName() {
    return "";
  }

  @Override
  default void close() {}
}
