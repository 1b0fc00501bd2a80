package dev.mplug.cli;

import static dev.mplug.cli.CliErrorsTest.assertOneLine;
import static dev.mplug.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.CheckpointStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --device}: pretraining on {@code cpu} end to end through the device-aware trainer (two steps, a checkpoint,
 * a resumed third step), CUDA refused in one line naming the GPU build where libtorch has none, bad values refused.
 */
class DeviceCommandsTest {
  @TempDir Path tmp;

  private String[] pretrain(Path world, Path out, String... more) {
    List<String> args = new ArrayList<>(List.of("pretrain", "--config", "pretrain-demo",
        "--set", "data.annotations=" + world.resolve(SynthFiles.PRETRAIN), "--set", "data.root=" + world,
        "--set", "output_dir=" + out, "--set", "threads=1", "--set", "data.workers=1", "--set", "data.batch_size=4",
        "--set", "train.warmup_steps=1", "--set", "train.checkpoint_every=2", "--set", "train.log_every=1"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @Test
  void pretrainOnTheCpuDeviceTrainsCheckpointsAndResumes() throws IOException {
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(40, 0, 3, 64));
    Path out = tmp.resolve("run");
    CliErrorsTest.Result r = run(pretrain(world, out, "--set", "train.total_steps=3", "--until-step", "2",
        "--device", "cpu"));
    assertEquals(0, r.code(), r.err());
    Path step2 = new CheckpointStore(out.resolve("checkpoints"), 2).latestValid().orElseThrow();
    JsonNode state = new ObjectMapper().readTree(step2.resolve("trainer.json").toFile());
    assertTrue(state.path("trainer_config").asText().contains("device=cpu"), state.toString());

    r = run(pretrain(world, out, "--set", "train.total_steps=3", "--resume", "--device", "cpu"));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("resumed from " + step2 + " at step 2"), r.out());
    List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
    assertEquals(3, metrics.size(), String.join("\n", metrics));
    for (String line : metrics) {
      assertTrue(line.contains("\"mem/peak_rss_mib\""), line);
      assertFalse(line.contains("cuda"), "no CUDA memory metrics on the CPU: " + line);
    }
  }

  @Test
  void cudaWithoutCudaAndBadValuesAreOneLineErrors() {
    Path world = tmp.resolve("absent");
    String line = assertOneLine(run(pretrain(world, tmp.resolve("o"), "--device", "gpu")), 2, "mplug pretrain: ");
    assertEquals("mplug pretrain: --device: expected cpu or cuda:N, got 'gpu'", line);
    line = assertOneLine(run("bench", "--device", "cuda:x"), 2, "mplug bench: ");
    assertEquals("mplug bench: --device: expected cpu or cuda:N, got 'cuda:x'", line);

    assumeFalse(TorchRuntime.cudaAvailable(), "a CUDA machine: cuda:0 is accepted there");
    String expected = TorchRuntime.gpuBuild() ? "the GPU libtorch sees no CUDA device"
        : "this libtorch is the CPU build; build with the GPU libtorch (mvn -Pgpu package, see pom.xml)";
    line = assertOneLine(run(pretrain(world, tmp.resolve("o"), "--device", "cuda:0")), 2, "mplug pretrain: ");
    assertTrue(line.startsWith("mplug pretrain: device cuda:0: " + expected), line);
    line = assertOneLine(run("finetune", "--task", "vqa", "--config", "vqa-demo", "--device", "cuda:0"), 2,
        "mplug finetune: ");
    assertTrue(line.startsWith("mplug finetune: device cuda:0: " + expected), line);
    line = assertOneLine(run("bench", "--device", "cuda:0"), 2, "mplug bench: ");
    assertTrue(line.startsWith("mplug bench: --device cuda:0: " + expected), line);
  }
}
