package dev.mplug.train;

import dev.mplug.dist.DistributedEnvironment;
import dev.mplug.dist.DistributedGroup;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * One rank of {@code DataParallelNonFiniteTest}: the toy regression of {@link TrainerResumeTest} on the data-parallel
 * trainer for 4 steps, where only rank 1's loss is NaN, and only in step 2. Prints what it skipped, its logged losses
 * and its final weights.
 */
public final class NonFiniteWorker {
  private NonFiniteWorker() {}

  public static void main(String[] args) {
    TorchRuntime.load();
    TorchRuntime.setThreads(1);
    DistributedGroup group = DistributedGroup.join(DistributedEnvironment.fromEnvironment());
    try (TrainerResumeTest.ToyTask task = new TrainerResumeTest.ToyTask() {
          @Override
          public Map<String, Tensor> losses(Tensor[] batch, long step) {
            poison = group.rank() == 1 && step == 1;
            return super.losses(batch, step);
          }
        };
        Trainer<Tensor[]> trainer = new Trainer<>(TrainerResumeTest.config(4), task, new TrainerResumeTest.ToyBatches(),
            new CheckpointStore(Path.of(args[0]).resolve("rank-" + group.rank()), 2), List.of(),
            new Progress(new PrintStream(OutputStream.nullOutputStream()), false, 4, 1), group)) {
      Trainer.Summary s = trainer.run(4);
      System.out.println("skipped=" + s.skippedSteps() + " losses=" + s.losses() + " weight="
          + Arrays.toString(Tensors.toFloats(task.params.get("visual_encoder.proj.weight"))));
    }
  }
}
