package dev.mplug.loss;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Soft cross-entropy against a teacher distribution (momentum distillation).
 *
 * <p>The official mPLUG code takes the log-softmax over the SEQUENCE axis (dim 1) of [B, T, V] logits, where ALBEF
 * (and the maths) use the vocabulary axis. This project uses the vocabulary axis; {@link Axis#OFFICIAL_SEQUENCE}
 * reproduces the official form behind an explicit switch.
 */
public final class Distillation {
  /** Which axis the student's log-softmax runs over. */
  public enum Axis {
    VOCABULARY,
    OFFICIAL_SEQUENCE
  }

  private Distillation() {}

  /**
   * Mean over selected positions of {@code -sum_v teacher[v] * log_softmax(student)[v]}.
   *
   * @param student [B, T, V] logits
   * @param teacher [B, T, V] probabilities (no gradient)
   * @param keep [B, T] bool, the positions that count (e.g. masked tokens); null = all
   */
  public static Tensor softCrossEntropy(Tensor student, Tensor teacher, Tensor keep, Axis axis) {
    Tensor logp = torch.log_softmax(student, axis == Axis.VOCABULARY ? -1 : 1);    // [B, T, V]
    Tensor perPosition = logp.mul(teacher).sum(-1).neg();                            // [B, T]
    if (keep == null) return perPosition.mean();
    Tensor k = keep.to(perPosition.scalar_type());
    return perPosition.mul(k).sum().div(k.sum().clamp_min(new Scalar(1.0)));
  }

  /** [N, C] logits against [N, C] soft targets: mean over rows of -sum targets * log_softmax(logits). */
  public static Tensor softCrossEntropy2d(Tensor logits, Tensor targets) {
    return torch.log_softmax(logits, 1).mul(targets).sum(1).neg().mean();
  }
}
