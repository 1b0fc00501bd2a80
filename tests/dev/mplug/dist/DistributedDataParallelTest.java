package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.io.SafeTensors;
import dev.mplug.io.StateDict;
import dev.mplug.torch.TensorScope;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ranks as two JVMs over Gloo on 127.0.0.1 ({@link GradientWorker}): rank 0's initial values reach both ranks,
 * an accumulation micro-step without synchronisation leaves each rank its own gradient, and after the synchronised
 * one both ranks hold the gradient one process computes on the combined batch.
 */
class DistributedDataParallelTest {
  @TempDir Path tmp;

  @Test
  @SuppressWarnings("try") // the scope frees the tensors by being open
  void twoRanksHoldTheGradientOfTheCombinedBatch() throws Exception {
    Ranks.Outcome run = Ranks.launch(2, Ranks.freePort(),
        Ranks.java(GradientWorker.class.getName(), tmp.toString()), Map.of());
    assertEquals(0, run.status(), run.output() + run.errors());
    try (TensorScope scope = TensorScope.open();
        StateDict rank0 = SafeTensors.read(tmp.resolve("rank-0.safetensors"));
        StateDict rank1 = SafeTensors.read(tmp.resolve("rank-1.safetensors"))) {
      // the reference: one process, the whole global batch of each micro-step, rank 0's initial values
      Map<String, Tensor> whole = GradientWorker.parameters(100);
      Map<String, Tensor> secondHalf = GradientWorker.parameters(100);
      Scalar micro = new Scalar(GradientWorker.MICRO_STEPS);
      for (int m = 0; m < GradientWorker.MICRO_STEPS; m++) {
        Tensor[] xy = GradientWorker.batch(m);
        GradientWorker.loss(whole, xy[0], xy[1]).div(micro).backward();
        if (m == 0) GradientWorker.loss(secondHalf, xy[0].narrow(0, 4, 4), xy[1].narrow(0, 4, 4)).div(micro).backward();
      }
      assertTrue(rank0.get("buckets").item_double() >= 2, "256-byte buckets split the 403 parameters");
      for (var e : whole.entrySet()) {
        String n = e.getKey();
        assertEquals(0.0, maxDiff(rank1.get("initial/" + n), e.getValue()), n + ": rank 1 starts from rank 0's values");
        assertEquals(0.0, maxDiff(rank0.get("initial/" + n), e.getValue()), n);
        assertEquals(0.0, maxDiff(rank0.get("grad/" + n), rank1.get("grad/" + n)), n + ": the ranks agree exactly");
        Tensor g = e.getValue().grad();
        double tolerance = 1e-6 * Math.max(1, g.abs().max().item_double());
        assertTrue(maxDiff(rank0.get("grad/" + n), g) <= tolerance, n + ": 2 ranks vs 1 process on the combined batch, "
            + "max difference " + maxDiff(rank0.get("grad/" + n), g));
        assertTrue(maxDiff(rank1.get("unsynced/" + n), secondHalf.get(n).grad()) <= tolerance,
            n + ": after the unsynchronised micro-step rank 1 holds its own half's gradient");
        assertTrue(maxDiff(rank0.get("unsynced/" + n), rank1.get("unsynced/" + n)) > 1e-4,
            n + ": no all-reduce on the accumulation micro-step");
      }
    }
  }

  private static double maxDiff(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_double();
  }
}
