package dev.mplug.train;

import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW with decoupled weight decay (torch.optim.AdamW's arithmetic), over named parameters in groups that each
 * carry their own learning rate and decay. The state (exp_avg, exp_avg_sq per parameter, the step count) is plain
 * named tensors, so a checkpoint stores it exactly and a resumed run continues bit for bit.
 */
public final class AdamW implements AutoCloseable {
  /** A set of parameters sharing a learning rate and weight decay. */
  public static final class Group {
    final String name;
    final List<String> names;
    double lr;
    final double weightDecay;

    Group(String name, List<String> names, double lr, double weightDecay) {
      this.name = name;
      this.names = List.copyOf(names);
      this.lr = lr;
      this.weightDecay = weightDecay;
    }

    public String name() {
      return name;
    }

    public double lr() {
      return lr;
    }

    public void setLr(double lr) {
      this.lr = lr;
    }
  }

  private final Map<String, Tensor> params;
  private final List<Group> groups = new ArrayList<>();
  private final Map<String, Tensor> expAvg = new LinkedHashMap<>();
  private final Map<String, Tensor> expAvgSq = new LinkedHashMap<>();
  private final double beta1;
  private final double beta2;
  private final double eps;
  private long step;

  public AdamW(Map<String, Tensor> params, double beta1, double beta2, double eps) {
    this.params = params;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
  }

  /** Adds a group; every parameter may belong to one group only. */
  public Group addGroup(String name, List<String> names, double lr, double weightDecay) {
    for (String n : names) {
      if (!params.containsKey(n)) throw new IllegalArgumentException("optimizer group " + name + ": no parameter " + n);
      for (Group g : groups) {
        if (g.names.contains(n)) throw new IllegalArgumentException(n + " is in groups " + g.name + " and " + name);
      }
    }
    Group g = new Group(name, names, lr, weightDecay);
    groups.add(g);
    return g;
  }

  public List<Group> groups() {
    return groups;
  }

  public long stepCount() {
    return step;
  }

  /** One update from the current gradients; parameters without a gradient are skipped (as in torch). */
  public void step() {
    step++;
    double bc1 = 1 - Math.pow(beta1, step);
    double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
    try (NoGradGuard guard = new NoGradGuard()) {
      for (Group g : groups) {
        Scalar decay = new Scalar(1 - g.lr * g.weightDecay);
        Scalar stepSize = new Scalar(-g.lr / bc1);
        for (String n : g.names) {
          Tensor p = params.get(n);
          Tensor grad = p.grad();
          if (grad == null || !grad.defined()) continue;
          Tensor m = expAvg.computeIfAbsent(n, k -> keep(torch.zeros_like(p)));
          Tensor v = expAvgSq.computeIfAbsent(n, k -> keep(torch.zeros_like(p)));
          if (g.weightDecay != 0) p.mul_(decay);
          m.lerp_(grad, new Scalar(1 - beta1));                              // m = b1 m + (1 - b1) g
          v.mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
          Tensor denom = v.sqrt().div_(new Scalar(bc2Sqrt)).add_(new Scalar(eps));
          p.addcdiv_(m, denom, stepSize);
        }
      }
    }
  }

  /** Sets every parameter's gradient to undefined (frees the memory, as zero_grad(set_to_none=True)). */
  public void zeroGrad() {
    for (Tensor p : params.values()) {
      Tensor g = p.grad();
      if (g != null && g.defined()) p.mutable_grad().reset();
    }
  }

  private static Tensor keep(Tensor t) {
    t.retainReference();
    return t;
  }

  /** The state as named tensors: {@code exp_avg/<name>}, {@code exp_avg_sq/<name>} (views of the live state). */
  public Map<String, Tensor> stateTensors() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    expAvg.forEach((n, t) -> out.put("exp_avg/" + n, t));
    expAvgSq.forEach((n, t) -> out.put("exp_avg_sq/" + n, t));
    return out;
  }

  /** Restores {@link #stateTensors()} (copied to each parameter's device) and the step count; every key must name a known parameter. */
  public void loadState(Map<String, Tensor> state, long stepCount) {
    for (var e : state.entrySet()) {
      String key = e.getKey();
      int slash = key.indexOf('/');
      String kind = slash < 0 ? "" : key.substring(0, slash);
      String n = key.substring(slash + 1);
      Tensor p = params.get(n);
      if (p == null || !(kind.equals("exp_avg") || kind.equals("exp_avg_sq"))) {
        throw new IllegalArgumentException("optimizer state key " + key + " does not fit this model");
      }
      if (!Arrays.equals(Tensors.shape(p), Tensors.shape(e.getValue()))) {
        throw new IllegalArgumentException("optimizer state " + key + " has shape "
            + Tensors.shapeString(e.getValue()) + ", the parameter " + Tensors.shapeString(p));
      }
      Tensor v = e.getValue().detach();   // a copy on the parameter's device (a checkpoint is read on the CPU)
      Tensor copy = keep(v.to(p.device(), v.scalar_type(), false, true, new MemoryFormatOptional()));
      Tensor old = (kind.equals("exp_avg") ? expAvg : expAvgSq).put(n, copy);
      if (old != null) old.releaseReference();
    }
    this.step = stepCount;
  }

  @Override
  public void close() {
    expAvg.values().forEach(Tensor::releaseReference);
    expAvgSq.values().forEach(Tensor::releaseReference);
    expAvg.clear();
    expAvgSq.clear();
  }
}
