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
import dev.mplug.testing.HeadCheckpoints;
import dev.mplug.torch.TorchRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --device} on evaluate, demo, finetune and the inference commands: {@code cpu} gives the answers (a
 * fine-tuning run: the losses and scores) of the default run;
 * {@code cuda:0} on a libtorch without CUDA is one line naming what to install, exit 2, before anything is read or
 * written (no output file, no drawn image, no demo world).
 */
class DeviceOptionCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static Path world;
  static Path checkpoint;
  static Path entailment;
  static Path verification;

  @BeforeAll
  static void checkpoints() throws Exception {
    world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(12, 0, 3, 64));
    checkpoint = HeadCheckpoints.demo(world.resolve("demo.safetensors"), 4);
    entailment = HeadCheckpoints.save("snli-ve", world.resolve("ve.safetensors"), 5);
    verification = HeadCheckpoints.save("nlvr2", world.resolve("nlvr2.safetensors"), 6);
  }

  private static String image(int i) {
    return world.resolve(SynthFiles.image(i)).toString();
  }

  /** Each command that loads a checkpoint, with arguments that run it on the small world. */
  private static List<List<String>> inferenceCommands(Path drawn, Path texts) {
    String c = checkpoint.toString();
    return List.of(
        List.of("caption", image(0), image(1), "--checkpoint", c, "--max-length", "4"),
        List.of("vqa", image(0), "what shape is it?", "--checkpoint", c, "--beam", "2"),
        List.of("retrieve", "--images", world.resolve(SynthFiles.IMAGE_DIR).toString(), "--texts", texts.toString(),
            "--top", "2", "--checkpoint", c),
        List.of("ground", image(2), "the red circle", "--checkpoint", c, "--out", drawn.toString()),
        List.of("entail", image(0), "there is a circle", "--checkpoint", entailment.toString()),
        List.of("verify", image(0), image(1), "the left image has more shapes", "--checkpoint",
            verification.toString()),
        List.of("evaluate", "--task", "caption", "--checkpoint", c, "--annotations",
            world.resolve(SynthFiles.CAPTION_TEST).toString(), "--max-items", "2", "--set", "caption.max_length=4",
            "--set", "caption.min_length=1", "--out", dir.resolve("results-" + drawn.getFileName() + ".json")
                .toString()));
  }

  private static String[] with(List<String> args, String... more) {
    List<String> all = new ArrayList<>(args);
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void cpuGivesTheAnswersOfTheDefaultRunOnEveryCommand() throws Exception {
    Path texts = Files.writeString(dir.resolve("texts.txt"), "a red circle\na blue square\n");
    for (List<String> command : inferenceCommands(dir.resolve("drawn.png"), texts)) {
      CliErrorsTest.Result plain = run(with(command));
      assertEquals(0, plain.code(), command + ": " + plain.err());
      CliErrorsTest.Result onCpu = run(with(command, "--device", "cpu"));
      assertEquals(0, onCpu.code(), command + ": " + onCpu.err());
      if (command.get(0).equals("evaluate")) {
        assertTrue(onCpu.out().contains(" s on cpu)"), onCpu.out());
        assertEquals(plain.out().lines().skip(1).toList(), onCpu.out().lines().skip(1).toList(), "the same metrics");
      } else {
        assertEquals(plain.out(), onCpu.out(), command.get(0) + " answers the same on --device cpu");
      }
    }
    JsonNode results = JSON.readTree(dir.resolve("results-drawn.png.json").toFile());   // the world's test image
    assertEquals(1, results.size(), results.toString());
    assertFalse(results.get(0).path("caption").asText().isEmpty(), results.toString());
    // serve and demo take it too (checked here up to their next argument's refusal: neither runs to completion)
    assertEquals("mplug serve: --port must be in 0..65535, got 70000", assertOneLine(run("serve", "--checkpoint",
        checkpoint.toString(), "--port", "70000", "--device", "cpu"), 2, "mplug serve: "));
    assertTrue(assertOneLine(run("demo", "--task", "bogus", "--device", "cpu"), 2, "mplug demo: ")
        .startsWith("mplug demo: --task bogus is not one of "));
  }

  /**
   * A fine-tuning run with {@code --device cpu} scores the untrained, the initial and the trained model (the model is
   * on the training device from the start) and prints the table of the run without it: the same losses and metrics.
   */
  @Test
  void finetuneOnTheCpuDeviceScoresAsTheDefaultRun() {
    List<String> finetune = List.of("finetune", "--task", "caption", "--config", "caption-demo", "--init",
        checkpoint.toString(), "--compare-untrained",
        "--set", "data.annotations=" + world.resolve(SynthFiles.CAPTION_TRAIN), "--set", "data.root=" + world,
        "--set", "data.vocab=" + world.resolve(SynthFiles.VOCAB), "--set", "data.batch_size=4",
        "--set", "eval.annotations=" + world.resolve(SynthFiles.CAPTION_TEST), "--set", "eval.root=" + world,
        "--set", "train.total_steps=2", "--set", "train.warmup_steps=1", "--set", "caption.max_length=4",
        "--set", "caption.min_length=1");
    List<String> tables = new ArrayList<>();
    for (String device : List.of("default", "cpu")) {
      Path out = dir.resolve("finetune-" + device);
      String[] args = device.equals("default") ? with(finetune, "--set", "output_dir=" + out)
          : with(finetune, "--set", "output_dir=" + out, "--device", device);
      CliErrorsTest.Result r = run(args);
      assertEquals(0, r.code(), r.err());
      assertTrue(Files.isRegularFile(out.resolve("results.json")), r.out());
      String table = r.out().substring(r.out().indexOf("| metric | untrained | pretrained | fine-tuned |"));
      tables.add(table.substring(0, table.indexOf("\nsteps ")));
    }
    assertTrue(tables.get(0).contains("| CIDEr |") && tables.get(0).contains("| training loss"), tables.get(0));
    assertEquals(tables.get(0), tables.get(1));
  }

  @Test
  void cudaIsRefusedInOneLineBeforeAnythingIsReadOrWritten() throws Exception {
    TorchRuntime.load();
    assumeFalse(TorchRuntime.cudaAvailable(), "a CUDA machine: cuda:0 is accepted there");
    String expected = TorchRuntime.gpuBuild() ? "the GPU libtorch sees no CUDA device"
        : "this libtorch is the CPU build; build with the GPU libtorch (mvn -Pgpu package, see pom.xml)";
    Path drawn = dir.resolve("refused.png");
    Path texts = Files.writeString(dir.resolve("refused.txt"), "a red circle\n");
    List<List<String>> commands = new ArrayList<>(inferenceCommands(drawn, texts));
    commands.add(List.of("serve", "--checkpoint", checkpoint.toString(), "--port", "0"));
    commands.add(List.of("demo", "--data", dir.resolve("demo-world").toString(), "--out",
        dir.resolve("demo-run").toString()));
    for (List<String> command : commands) {
      CliErrorsTest.Result r = run(with(command, "--device", "cuda:0"));
      String prefix = "mplug " + command.get(0) + ": ";
      String line = assertOneLine(r, 2, prefix);
      assertTrue(line.startsWith(prefix + "--device cuda:0: " + expected), line);
      assertEquals("", r.out(), "nothing printed as a result");
    }
    assertFalse(Files.exists(drawn), "ground drew nothing");
    assertFalse(Files.exists(dir.resolve("results-refused.png.json")), "evaluate wrote no results");
    assertFalse(Files.exists(dir.resolve("demo-world")), "demo wrote no world");
    assertFalse(Files.exists(dir.resolve("demo-run")), "demo wrote no run");
  }
}
