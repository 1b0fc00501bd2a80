package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.torch.TorchRuntime;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Every expected failure of a command ends in exactly one line {@code mplug <command>: <reason>} on stderr, no stack
 * trace, and exit code 2 (internal errors 70); {@code --debug} adds the trace. The commands run in-process.
 */
class CliErrorsTest {
  @TempDir static Path world;
  @TempDir Path tmp;

  @BeforeAll
  static void makeWorld() {
    ShapesWorld.generate(world, ShapesWorld.Config.of(40, 0, 3, 64));   // 36 training images
  }

  record Result(int code, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }
  }

  static Result run(String... args) {
    return capture(cli -> {}, args);
  }

  /** Runs {@code mplug args} in-process (after {@code setup} may add commands), capturing stdout and stderr. */
  static Result capture(Consumer<CommandLine> setup, String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      CommandLine cli = Main.commandLine();
      setup.accept(cli);
      code = cli.execute(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Exactly one stderr line (besides the loader's per-sample reports), starting {@code prefix}, no trace. */
  static String assertOneLine(Result r, int code, String prefix) {
    String all = "exit " + r.code() + ", stderr:\n" + r.err();
    assertEquals(code, r.code(), all);
    List<String> lines = r.errLines().stream().filter(l -> !l.startsWith("mplug data: bad sample ")).toList();
    assertEquals(1, lines.size(), all);
    assertTrue(lines.get(0).startsWith(prefix), all);
    assertFalse(r.err().contains("\tat ") || r.err().contains("Caused by"), all);
    return lines.get(0);
  }

  /** The pretrain-tiny config on the test world, shrunk to seconds. */
  private static List<String> pretrain(Path root, Path out, String... more) {
    List<String> args = new ArrayList<>(List.of("pretrain", "--config", "pretrain-tiny"));
    for (String s : List.of("data.annotations=" + root.resolve(SynthFiles.PRETRAIN), "data.root=" + root,
        "output_dir=" + out, "train.total_steps=2", "train.warmup_steps=1", "train.checkpoint_every=2",
        "train.log_every=1", "data.batch_size=4", "objectives.queue_size=8", "data.workers=0", "threads=1")) {
      args.addAll(List.of("--set", s));
    }
    for (String s : more) args.addAll(List.of("--set", s));
    return args;
  }

  private static String[] array(List<String> args) {
    return args.toArray(String[]::new);
  }

  // ---- command-line parsing -------------------------------------------------------------------------------------

  @Test
  void parameterErrorsAreOneLineWithAUsageHint() {
    String line = assertOneLine(run("pretrain"), 2, "mplug pretrain: ");
    assertEquals("mplug pretrain: Missing required option: '--config=<config>'; see 'mplug pretrain --help'", line);
    line = assertOneLine(run("synth", "--images", "many", "--out", tmp.toString()), 2, "mplug synth: ");
    assertEquals("mplug synth: Invalid value for option '--images': 'many' is not an int; see 'mplug synth --help'",
        line);
    assertEquals("mplug jmh: JMH options: z is not a recognized option (`mplug jmh -- -h` lists them)",
        assertOneLine(run("jmh", "-zzz"), 2, "mplug jmh: "));
    assertEquals("mplug jmh: no benchmark matches [NoSuchBenchmarkXyz] (`mplug jmh -l` lists them)",
        assertOneLine(run("jmh", "NoSuchBenchmarkXyz"), 2, "mplug jmh: "));
    line = assertOneLine(run("infoo"), 2, "mplug: ");
    assertTrue(line.startsWith("mplug: Unmatched argument at index 0: 'infoo' (did you mean info"), line);
    assertTrue(line.endsWith("; see 'mplug --help'"), line);
  }

  // ---- configs --------------------------------------------------------------------------------------------------

  @Test
  void configErrorsNameTheConfigAndTheKey() {
    Path missing = tmp.resolve("nope.txtpb");
    assertTrue(assertOneLine(run("pretrain", "--config", missing.toString()), 2, "mplug pretrain: ")
        .contains("config " + missing + " is neither a file nor a shipped config"));
    assertTrue(assertOneLine(run(array(pretrain(world, tmp, "data.bogus=1"))), 2, "mplug pretrain: ")
        .endsWith("override data.bogus: unknown key bogus"));
    assertTrue(assertOneLine(run(array(pretrain(world, tmp, "data.batch_size=lots"))), 2, "mplug pretrain: ")
        .contains("override data.batch_size=lots: "));
    assertTrue(assertOneLine(run(array(pretrain(world, tmp, "data.batch_size=1"))), 2, "mplug pretrain: ")
        .endsWith("data.batch_size must be >= 2 (ITM needs negatives)"));
  }

  @Test
  void aConfigFileWithASyntaxErrorIsOneLine() throws IOException {
    Path bad = Files.writeString(tmp.resolve("bad.txtpb"), "model: \"model-demo\"\ndata { batch_size: }\n");
    String line = assertOneLine(run("pretrain", "--config", bad.toString()), 2, "mplug pretrain: " + bad + ": ");
    assertTrue(line.contains("2:"), line);   // the line:column of the error
  }

  // ---- missing files --------------------------------------------------------------------------------------------

  @Test
  void missingFilesAreNamed() {
    Path none = tmp.resolve("none");
    assertEquals("mplug forward: " + none + " is not a folder",
        assertOneLine(run("forward", "--fixture", none.toString()), 2, "mplug forward: "));
    Path ann = tmp.resolve("ann.json");
    assertEquals("mplug pack: annotation file " + ann + " does not exist", assertOneLine(run("pack", "--task",
        "pretrain", "--ann", ann.toString(), "--root", world.toString(), "--out", tmp.resolve("o").toString()), 2,
        "mplug pack: "));
    assertTrue(assertOneLine(run(array(pretrain(world, tmp, "data.annotations=" + ann))), 2, "mplug pretrain: ")
        .endsWith("data.annotations: " + ann + " does not exist"));
  }

  @Test
  void aFixtureFolderWithoutItsFilesIsOneLine() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("fixture"));
    String line = assertOneLine(run("forward", "--fixture", empty.toString()), 2, "mplug forward: ");
    assertTrue(line.contains("config.json"), line);
    Path config = Files.writeString(empty.resolve("config.json"), "{\"task\": \"vqa\",\n");
    line = assertOneLine(run("forward", "--fixture", empty.toString()), 2, "mplug forward: ");
    assertEquals("mplug forward: " + config + ": not valid JSON: Unexpected end-of-input within/between Object "
        + "entries at line 2, column 1", line);
  }

  // ---- checkpoints ----------------------------------------------------------------------------------------------

  @Test
  void resumeRefusesCorruptAndForeignCheckpoints() throws IOException {
    Path out = tmp.resolve("run");
    Result first = run(array(pretrain(world, out)));
    assertEquals(0, first.code(), first.err());
    Path step = out.resolve("checkpoints").resolve("step-000000002");
    assertTrue(Files.isDirectory(step), first.out());

    // written for another model: the demo model with another embedding width
    String demo;
    try (InputStream in = CliErrorsTest.class.getResourceAsStream("/configs/model-demo.txtpb")) {
      demo = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(demo.contains("embed_dim: 32"), demo);
    Path other = Files.writeString(tmp.resolve("model-other.txtpb"), demo.replace("embed_dim: 32", "embed_dim: 16"));
    List<String> resume = new ArrayList<>(pretrain(world, out, "model=" + other));
    resume.add("--resume");
    assertTrue(assertOneLine(run(array(resume)), 2, "mplug pretrain: ")
        .startsWith("mplug pretrain: checkpoint " + step + " was written for another model config"));

    // corrupt: one flipped byte in the weights; the only checkpoint is refused
    Path weights = step.resolve("model.safetensors");
    byte[] b = Files.readAllBytes(weights);
    b[b.length - 1] ^= 0x55;
    Files.write(weights, b);
    resume = new ArrayList<>(pretrain(world, out));
    resume.add("--resume");
    assertEquals("mplug pretrain: --resume: no complete checkpoint in " + out.resolve("checkpoints") + " (refused "
        + step.getFileName() + ": model.safetensors fails its CRC32C)", assertOneLine(run(array(resume)), 2,
        "mplug pretrain: "));
  }

  // ---- data -----------------------------------------------------------------------------------------------------

  @Test
  void tooManyBadSamplesStopsWithOneLine() throws IOException {
    Path bad = tmp.resolve("bad");
    Files.createDirectories(bad.resolve(SynthFiles.IMAGE_DIR));
    for (String f : List.of(SynthFiles.PRETRAIN, SynthFiles.VOCAB)) Files.copy(world.resolve(f), bad.resolve(f));
    try (var images = Files.list(world.resolve(SynthFiles.IMAGE_DIR))) {
      for (Path img : images.toList()) {
        byte[] bytes = Files.readAllBytes(img);
        // a third of the training images (names 000000..000009 of 36) cut to 100 bytes: a truncated JPEG
        if (img.getFileName().toString().startsWith("00000")) bytes = Arrays.copyOf(bytes, 100);
        Files.write(bad.resolve(SynthFiles.IMAGE_DIR).resolve(img.getFileName()), bytes);
      }
    }
    // batches of 12: the bad fraction is checked at the end of the first epoch (3 batches)
    Result r = run(array(pretrain(bad, tmp.resolve("run"), "train.total_steps=4", "data.batch_size=12",
        "objectives.queue_size=24")));
    String line = assertOneLine(r, 2, "mplug pretrain: ");
    assertTrue(line.startsWith("mplug pretrain: stopping: "), line);
    assertTrue(line.contains("were bad, more than the allowed 1.0%"), line);
    assertTrue(r.err().contains("mplug data: bad sample "), r.err());
    assertFalse(r.err().contains("TooManyBadSamplesException"), r.err());
  }

  // ---- memory, internal errors, --debug -------------------------------------------------------------------------

  /** A test-only subcommand that runs {@code body}. */
  @Command(name = "probe")
  static final class Probe implements Callable<Integer> {
    private final Callable<Integer> body;

    Probe(Callable<Integer> body) {
      this.body = body;
    }

    @Override
    public Integer call() throws Exception {
      return body.call();
    }
  }

  static Result probe(Callable<Integer> body, String... args) {
    List<String> all = new ArrayList<>(List.of("probe"));
    all.addAll(List.of(args));
    return capture(cli -> cli.addSubcommand("probe", new Probe(body)), array(all));
  }

  @Test
  void outOfMemoryIsOneLine() {
    Result r = probe(() -> {
      TorchRuntime.load();
      torch.empty(1L << 58).close();   // 1 EiB
      return 0;
    });
    assertTrue(assertOneLine(r, 2, "mplug probe: ").startsWith("mplug probe: out of memory: libtorch could not "
        + "allocate 1.0 EiB for a tensor (DefaultCPUAllocator); use a smaller batch"), r.err());
    r = probe(() -> new long[Integer.MAX_VALUE].length);
    assertTrue(assertOneLine(r, 2, "mplug probe: ").startsWith("mplug probe: out of memory in the JVM ("), r.err());
  }

  @Test
  void internalErrorsAreOneLineAndDebugAddsTheTrace() {
    Callable<Integer> bug = () -> {
      Object nothing = null;
      return nothing.hashCode();
    };
    String line = assertOneLine(probe(bug), 70, "mplug probe: internal error: java.lang.NullPointerException: ");
    assertTrue(line.endsWith(" (run with --debug for the trace)"), line);
    for (Result r : List.of(probe(bug, "--debug"), capture(cli -> cli.addSubcommand("probe", new Probe(bug)),
        "--debug", "probe"))) {
      assertEquals(70, r.code());
      assertEquals(line, r.errLines().get(0));
      assertTrue(r.err().contains("java.lang.NullPointerException"), r.err());
      assertTrue(r.err().contains("\tat dev.mplug.cli.CliErrorsTest"), r.err());
    }
    Result withTrace = run("--debug", "forward", "--fixture", tmp.resolve("none").toString());
    assertEquals(2, withTrace.code());
    assertTrue(withTrace.err().contains("\tat dev.mplug.cli.ForwardCommand.call"), withTrace.err());
  }
}
