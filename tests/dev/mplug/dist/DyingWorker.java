package dev.mplug.dist;

import dev.mplug.torch.TorchRuntime;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A rank of {@link DistributedFaultsTest} that dies: after one all-reduce together, rank 1 kills itself with SIGKILL
 * (no shutdown, no goodbye on the sockets it holds) while the others go on all-reducing.
 */
public final class DyingWorker {
  private DyingWorker() {}

  public static void main(String[] args) throws Exception {
    TorchRuntime.load();
    DistributedGroup group = DistributedGroup.join(DistributedEnvironment.fromEnvironment());
    Tensor t = torch.ones(4);
    group.allReduceSum(t);
    if (group.rank() == 1) {
      new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).start().waitFor();
      Thread.sleep(60_000);   // not reached
    }
    for (int i = 0; i < 1000; i++) {
      group.allReduceSum(t);
      Thread.sleep(10);
    }
  }
}
