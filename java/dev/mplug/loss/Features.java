package dev.mplug.loss;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

/** Vector helpers for the contrastive heads. */
public final class Features {
  private Features() {}

  /** {@code x / max(||x||_2, 1e-12)} along {@code dim} (F.normalize). */
  public static Tensor l2Normalize(Tensor x, long dim) {
    Tensor norm = x.pow(new Scalar(2.0)).sum(new long[] {dim}, true, new ScalarTypeOptional()).sqrt();
    return x.div(norm.clamp_min(new Scalar(1e-12)));
  }
}
