package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.train.TrainerResumeTest.ToyBatches;
import dev.mplug.train.TrainerResumeTest.ToyTask;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bf16 autocast training follows the fp32 loss curve: its forward sees each step's updated weights. */
class Bf16TrainingTest {
  @TempDir Path tmp;

  private List<Double> losses(String precision, int steps) {
    // no warm-up, cosine 0.05 -> 0.02, no decay or clipping: the two runs differ only in precision
    TrainerConfig config = TrainerConfig.builder(steps).warmupSteps(0).lr(0.05).visualLr(0.02).warmupLr(0.05)
        .minLr(0.02).weightDecay(0).clipNorm(0).precision(precision).logEvery(1).checkpointEvery(0).keepLast(1)
        .seed(1).build();
    try (ToyTask task = new ToyTask();
        var t = new Trainer<>(config, task, new ToyBatches(), new CheckpointStore(tmp.resolve(precision), 1), List.of(),
            new Progress(new PrintStream(new ByteArrayOutputStream()), false, steps, 1), false)) {
      return t.run(steps).losses();
    }
  }

  /**
   * Margin: bf16 keeps 8 mantissa bits, so each forward differs from fp32 by ~0.4% relative; over 30 steps the two
   * trajectories (same data, same dropout draws) may drift apart a little, never by more than 10% of the starting
   * loss. On the defect (stale bf16 weights from step 0) the bf16 loss stays near its start while fp32 falls to
   * about half: far outside.
   */
  private static double mean(List<Double> xs) {
    return xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  @Test
  void bf16LossTracksFp32() {
    int steps = 60;
    List<Double> fp32 = losses("fp32", steps);
    List<Double> bf16 = losses("bf16", steps);
    double start = mean(fp32.subList(0, 5));
    assertTrue(mean(fp32.subList(steps - 10, steps)) < 0.6 * start, "fp32 learns: " + fp32);
    for (int s = 0; s < steps; s++) {
      assertTrue(Math.abs(bf16.get(s) - fp32.get(s)) <= 0.10 * start,
          "step " + s + ": bf16 " + bf16.get(s) + " vs fp32 " + fp32.get(s) + "\nfp32 " + fp32 + "\nbf16 " + bf16);
    }
  }
}
