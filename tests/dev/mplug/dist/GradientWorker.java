package dev.mplug.dist;

import dev.mplug.io.SafeTensors;
import dev.mplug.torch.TorchRuntime;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One rank of {@link DistributedDataParallelTest}: a two-layer perceptron whose initial values differ per rank
 * (rank 0's must win), two accumulation micro-steps over this rank's half of each global batch, tiny buckets (several
 * all-reduces). Writes the parameters after the start-up broadcast, the local gradient after the unsynchronised
 * micro-step and the final gradients to {@code <dir>/rank-<r>.safetensors}.
 */
public final class GradientWorker {
  static final int GLOBAL_BATCH = 8;
  static final int MICRO_STEPS = 2;

  private GradientWorker() {}

  public static void main(String[] args) throws Exception {
    TorchRuntime.load();
    TorchRuntime.setThreads(1);
    DistributedGroup group = DistributedGroup.join(DistributedEnvironment.fromEnvironment());
    Map<String, Tensor> params = parameters(100 + group.rank());
    var ddp = new DistributedDataParallel(group, params, Map.of(), 256, false);
    Map<String, Tensor> out = new LinkedHashMap<>();
    params.forEach((n, p) -> out.put("initial/" + n, p.detach().clone()));
    int per = GLOBAL_BATCH / group.worldSize();
    for (int m = 0; m < MICRO_STEPS; m++) {
      Tensor[] xy = batch(m);
      ddp.beforeForward(m == MICRO_STEPS - 1);
      Tensor loss = loss(params, xy[0].narrow(0, (long) group.rank() * per, per),
          xy[1].narrow(0, (long) group.rank() * per, per)).div(new Scalar(MICRO_STEPS));
      ddp.backward(loss, m == MICRO_STEPS - 1);
      if (m == 0) params.forEach((n, p) -> out.put("unsynced/" + n, p.grad().clone()));
    }
    params.forEach((n, p) -> out.put("grad/" + n, p.grad().clone()));
    out.put("buckets", torch.full(new long[] {1}, new Scalar((double) ddp.buckets())));
    SafeTensors.write(Path.of(args[0]).resolve("rank-" + group.rank() + ".safetensors"), out, Map.of());
  }

  /** The perceptron's parameters drawn from {@code seed}. */
  static Map<String, Tensor> parameters(long seed) {
    torch.manual_seed(seed);
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("fc1.weight", torch.randn(16, 5).requires_grad_(true));
    p.put("fc1.bias", torch.randn(16).requires_grad_(true));
    p.put("fc2.weight", torch.randn(3, 16).requires_grad_(true));
    p.put("fc2.bias", torch.randn(3).requires_grad_(true));
    return p;
  }

  /** Global micro-batch {@code m}: inputs [8, 5], targets [8, 3]. */
  static Tensor[] batch(int m) {
    torch.manual_seed(1000 + m);
    return new Tensor[] {torch.randn(GLOBAL_BATCH, 5), torch.randn(GLOBAL_BATCH, 3)};
  }

  /** Mean over the rows of the squared error summed over the outputs. */
  static Tensor loss(Map<String, Tensor> p, Tensor x, Tensor y) {
    Tensor h = torch.tanh(x.matmul(p.get("fc1.weight").t()).add(p.get("fc1.bias")));   // [n, 16]
    Tensor out = h.matmul(p.get("fc2.weight").t()).add(p.get("fc2.bias"));             // [n, 3]
    return out.sub(y).pow(new Scalar(2)).sum(1).mean();           // []
  }
}
