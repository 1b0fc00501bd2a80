package dev.mplug.task.pretrain;

import dev.mplug.model.MPlug;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The momentum model of ITC/MLM distillation: an exponential moving average ({@code m * momentum + (1 - m) *
 * online}) of the online vision encoder, text encoder, fusion and projections. Unlike the official code (whose
 * fusion twin is never updated) every twin is updated. It never receives gradients.
 */
public final class MomentumEncoder {
  private final MPlug model;
  private final double momentum;
  private final Map<String, Tensor[]> pairs = new LinkedHashMap<>();   // momentum name -> {momentum, online}

  /** Copies the online values into {@code twin} (same config without the decoder) and pairs them by name. */
  public MomentumEncoder(MPlug online, MPlug twin, double momentum) {
    if (momentum < 0 || momentum > 1) throw new IllegalArgumentException("momentum must be in [0, 1], got " + momentum);
    this.model = twin;
    this.momentum = momentum;
    Map<String, Tensor> on = online.namedParameters();
    try (NoGradGuard guard = new NoGradGuard()) {
      for (var e : twin.namedParameters().entrySet()) {
        Tensor src = on.get(e.getKey());
        if (src == null) throw new IllegalArgumentException("momentum parameter " + e.getKey() + " has no online twin");
        e.getValue().requires_grad_(false);
        e.getValue().copy_(src);
        pairs.put(twinName(e.getKey()), new Tensor[] {e.getValue(), src});
      }
    }
  }

  /** The official name of a twin: {@code visual_encoder.x} -> {@code visual_encoder_m.x}. */
  static String twinName(String online) {
    int dot = online.indexOf('.');
    return dot < 0 ? online + "_m" : online.substring(0, dot) + "_m" + online.substring(dot);
  }

  public MPlug model() {
    return model;
  }

  /** One EMA step. */
  public void update() {
    try (NoGradGuard guard = new NoGradGuard()) {
      Scalar keep = new Scalar(momentum);
      Scalar take = new Scalar(1 - momentum);
      for (Tensor[] p : pairs.values()) p[0].mul_(keep).add_(p[1].detach(), take);
    }
  }

  /** The twins by their official names ({@code *_m.}), for checkpoints. */
  public Map<String, Tensor> parameters() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    pairs.forEach((n, p) -> out.put(n, p[0]));
    return out;
  }
}
