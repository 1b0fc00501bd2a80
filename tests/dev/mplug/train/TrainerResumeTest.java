package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.metrics.JsonLinesSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer on a toy regression task: it learns, skips non-finite steps, and resumes bit for bit. */
class TrainerResumeTest {
  @TempDir Path tmp;

  /** y = x W^T + b with input dropout (exercises libtorch's RNG) and a "visual_encoder." parameter group. */
  static class ToyTask implements TrainingTask<Tensor[]> {
    final Map<String, Tensor> params = new LinkedHashMap<>();
    boolean poison;

    ToyTask() {
      TorchRuntime.seed(7);
      params.put("visual_encoder.proj.weight", torch.randn(3, 4).mul(Tensors.scalar(0.1)).requires_grad_(true));
      params.put("head.bias", torch.zeros(3).requires_grad_(true));
      params.values().forEach(Tensor::retainReference);
    }

    @Override
    public Map<String, Tensor> parameters() {
      return params;
    }

    @Override
    public Map<String, Tensor> losses(Tensor[] batch, long step) {
      Tensor x = torch.dropout(batch[0], 0.2, true);
      // linear takes the leaf weight itself, so bf16 autocast caches its cast as it does a real model's
      Tensor pred = torch.linear(x, params.get("visual_encoder.proj.weight"), new TensorOptional(params.get("head.bias")));
      Tensor loss = torch.mse_loss(pred, batch[1]);
      if (poison) loss = loss.mul(Tensors.scalar(Double.NaN));
      return Map.of("mse", loss);
    }

    @Override
    public int batchSize(Tensor[] batch) {
      return (int) batch[0].size(0);
    }

    @Override
    public String configText() {
      return "toy 4->3";
    }
  }

  /** Deterministic batches: batch (epoch, offset) is a function of its position only. */
  static final class ToyBatches implements Batches<Tensor[]> {
    int epoch;
    int offset;
    static final int PER_EPOCH = 5;

    @Override
    public Tensor[] next() {
      SplittableRandom r = new SplittableRandom(epoch * 1000 + offset);
      float[] x = new float[8 * 4];
      float[] y = new float[8 * 3];
      for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 4; j++) x[i * 4 + j] = (float) r.nextGaussian();
        y[i * 3] = x[i * 4] - x[i * 4 + 1];
        y[i * 3 + 1] = 0.5f * x[i * 4 + 2];
        y[i * 3 + 2] = x[i * 4 + 3] + 1;
      }
      if (++offset == PER_EPOCH) {
        epoch++;
        offset = 0;
      }
      return new Tensor[] {Tensors.floats(x, 8, 4), Tensors.floats(y, 8, 3)};
    }

    @Override
    public LoaderPosition position() {
      return new LoaderPosition(epoch, offset);
    }

    @Override
    public void seek(LoaderPosition p) {
      epoch = p.epoch();
      offset = p.offset();
    }
  }

  static TrainerConfig config(long steps) {
    return TrainerConfig.builder(steps).warmupSteps(2).lr(0.05).visualLr(0.02).warmupLr(1e-3).minLr(1e-3)
        .weightDecay(0.01).clipNorm(1.0).accumulation(2).logEvery(1).checkpointEvery(3).keepLast(2)
        .maxNonFiniteInARow(3).seed(1).build();
  }

  private Trainer<Tensor[]> trainer(ToyTask task, Path dir, long steps) {
    return new Trainer<>(config(steps), task, new ToyBatches(), new CheckpointStore(dir, 2),
        List.of(new JsonLinesSink(dir.resolve("metrics.jsonl"))), new Progress(new PrintStream(new ByteArrayOutputStream()),
            false, steps, 1), true);
  }

  @Test
  void resumedRunRepeatsTheUninterruptedLossesExactly() throws IOException {
    TorchRuntime.setThreads(1);
    List<Double> full;
    try (ToyTask task = new ToyTask(); var t = trainer(task, tmp.resolve("full"), 10)) {
      TorchRuntime.seed(123);
      full = t.run(10).losses();
    }
    assertTrue(full.get(9) < full.get(0) * 0.7, "the toy model learns: " + full);

    List<Double> firstHalf;
    try (ToyTask task = new ToyTask(); var t = trainer(task, tmp.resolve("split"), 10)) {
      TorchRuntime.seed(123);
      firstHalf = t.run(6).losses();            // checkpoints at 3 and 6
    }
    Path saved = new CheckpointStore(tmp.resolve("split"), 2).latestValid().orElseThrow();
    // 6 steps x 2 micro-batches = 12 batches of 5 per epoch: the data position is epoch 2, offset 2
    JsonNode data = new ObjectMapper().readTree(saved.resolve(Trainer.STATE_FILE).toFile()).path("data");
    assertEquals(new LoaderPosition(2, 2), new LoaderPosition(data.path("epoch").asInt(), data.path("offset").asInt()));
    TorchRuntime.seed(999);                     // a different RNG state, which the resume must overwrite
    List<Double> secondHalf;
    try (ToyTask task = new ToyTask(); var t = trainer(task, tmp.resolve("split"), 10)) {
      t.resume(saved);
      assertEquals(6, t.step());
      secondHalf = t.run(10).losses();
    }
    assertEquals(full.subList(0, 6), firstHalf);
    assertEquals(full.subList(6, 10), secondHalf, "bit-identical losses after resume");
  }

  @Test
  void bf16AutocastTrainsAndLeavesParametersInFloat32() {
    // clip_norm 0: no clipping, the norm is still measured
    TrainerConfig bf16 = TrainerConfig.builder(8).warmupSteps(2).lr(0.05).visualLr(0.02).warmupLr(1e-3).minLr(1e-3)
        .weightDecay(0.01).precision("bf16").logEvery(1).checkpointEvery(0).keepLast(1).maxNonFiniteInARow(3).seed(1)
        .build();
    try (ToyTask task = new ToyTask();
        var t = new Trainer<>(bf16, task, new ToyBatches(), new CheckpointStore(tmp.resolve("bf16"), 1), List.of(),
            new Progress(new PrintStream(new ByteArrayOutputStream()), false, 8, 1), false)) {
      List<Double> losses = t.run(8).losses();
      assertTrue(losses.stream().allMatch(Double::isFinite), losses.toString());
      assertTrue(losses.get(7) < losses.get(0), "learns under bf16 autocast: " + losses);
      assertEquals(torch.ScalarType.Float.value, task.params.get("visual_encoder.proj.weight").scalar_type().value);
    }
  }

  /** Every step's native objects are released: the number of live JavaCPP pointers does not grow with steps. */
  @Test
  void stepsReleaseTheirNativeMemory() {
    try (ToyTask task = new ToyTask();
        var t = new Trainer<>(config(400), task, new ToyBatches(), new CheckpointStore(tmp.resolve("mem"), 1),
            List.of(), new Progress(new PrintStream(new ByteArrayOutputStream()), false, 400, 1), false)) {
      t.run(50);
      long after50 = Pointer.totalCount();
      t.run(400);
      long after400 = Pointer.totalCount();
      assertTrue(after400 - after50 < 20, "live native pointers grew from " + after50 + " to " + after400
          + " over 350 steps");
    }
  }

  @Test
  void nonFiniteLossesAreSkippedCountedAndStopTheRun() throws Exception {
    try (ToyTask task = new ToyTask(); var t = trainer(task, tmp.resolve("nan"), 10)) {
      Tensor before = task.params.get("head.bias").detach().clone();
      task.poison = true;
      var e = assertThrows(TorchException.class, () -> t.run(10));
      assertTrue(e.getMessage().contains("3 non-finite steps in a row"), e.getMessage());
      assertEquals(0.0, Tensors.toFloats(task.params.get("head.bias").sub(before).abs().max())[0], "no update applied");
    }
    assertFalse(Files.exists(tmp.resolve("nan").resolve("step-000000003")), "nothing checkpointed from NaN steps");
  }

  @Test
  void aCpuRunStoresNoCudaGeneratorStateAndACudaStateIsReportedNotRestoredOnTheCpu() throws IOException {
    TorchRuntime.setThreads(1);
    Path dir = tmp.resolve("rng");
    try (ToyTask task = new ToyTask(); var t = trainer(task, dir, 3)) {
      TorchRuntime.seed(5);
      t.run(3);
    }
    Path saved = new CheckpointStore(dir, 2).latestValid().orElseThrow();
    Path stateFile = saved.resolve(Trainer.STATE_FILE);
    ObjectMapper json = new ObjectMapper();
    ObjectNode state = (ObjectNode) json.readTree(stateFile.toFile());
    assertTrue(state.has(Trainer.CPU_RNG), state.toString());
    assertFalse(state.has(Trainer.CUDA_RNG), "a CPU run has no CUDA generator: " + state);
    byte[] cpu = Base64.getDecoder().decode(state.path(Trainer.CPU_RNG).asText());

    // the same checkpoint as a CUDA run would have written it (a CUDA generator state beside the CPU one)
    state.put(Trainer.CUDA_RNG, Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}));
    Files.write(stateFile, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
    Path manifest = saved.resolve(CheckpointStore.MANIFEST);
    ObjectNode files = (ObjectNode) json.readTree(manifest.toFile());
    ((ObjectNode) files.path("files").path(Trainer.STATE_FILE)).put("size", Files.size(stateFile))
        .put("crc32c", CheckpointStore.crc(stateFile));
    Files.write(manifest, json.writeValueAsBytes(files));
    CheckpointStore.requireValid(saved);

    TorchRuntime.seed(999);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Progress progress = new Progress(new PrintStream(log), false, 3, 1);
    try (ToyTask task = new ToyTask(); var t = new Trainer<>(config(3), task, new ToyBatches(),
        new CheckpointStore(tmp.resolve("rng2"), 2), List.of(), progress, true)) {
      t.resume(saved);
      assertEquals(3, t.step());
    }
    assertArrayEquals(cpu, TorchRuntime.rngState(ComputeDevice.CPU), "the CPU generator is restored");
    assertEquals("resume: " + saved + " holds a CUDA generator state; not restored (this run is on the CPU)\n",
        log.toString());
  }

  @Test
  void resumeRefusesAnotherModelConfig() {
    try (ToyTask task = new ToyTask(); var t = trainer(task, tmp.resolve("cfg"), 3)) {
      t.run(3);
    }
    ToyTask other = new ToyTask() {
      @Override
      public String configText() {
        return "toy 4->4";
      }
    };
    try (other; var t = trainer(other, tmp.resolve("cfg2"), 3)) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> t.resume(new CheckpointStore(tmp.resolve("cfg"), 2).latestValid().orElseThrow()));
      assertTrue(e.getMessage().contains("another model config: it has `toy 4->3`, this run `toy 4->4` (line 1)"),
          e.getMessage());
      assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }
  }
}
