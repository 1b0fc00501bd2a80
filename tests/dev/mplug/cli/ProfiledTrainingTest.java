package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.testing.TraceFile;
import dev.mplug.testing.TraceFile.Slice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mplug pretrain --profile FILE}: three steps of the demo model through the real trainer and data loader write
 * a trace that a viewer accepts, with every range the expected number of times, each inside its parent on its thread;
 * the metrics carry each step's peak resident set.
 */
class ProfiledTrainingTest {
  @TempDir Path tmp;

  @Test
  void pretrainWritesATraceOfTheStepsRangesNestedAsTheCodeIs() throws IOException {
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(40, 0, 3, 64));
    Path out = tmp.resolve("run");
    Path trace = tmp.resolve("trace.json");
    CliErrorsTest.Result r = CliErrorsTest.run("pretrain", "--config", "pretrain-demo", "--profile", trace.toString(),
        "--set", "data.annotations=" + world.resolve(SynthFiles.PRETRAIN), "--set", "data.root=" + world,
        "--set", "output_dir=" + out, "--set", "threads=1", "--set", "data.workers=1", "--set", "data.batch_size=4",
        "--set", "train.total_steps=3", "--set", "train.warmup_steps=1", "--set", "train.checkpoint_every=2",
        "--set", "train.log_every=1");
    assertEquals(0, r.code(), r.err());

    TraceFile t = TraceFile.read(trace);   // fails on ranges that overlap without nesting
    assertTrue(r.out().contains("profile: " + t.slices().size() + " ranges in " + trace), r.out());
    assertEquals("mplug pretrain", t.processName());
    // per step: one of each trainer range; the demo recipe runs all four objectives without distillation (alpha 0),
    // so the text encoder runs for the online and momentum ITC features, MLM and prefix LM, the fusion for ITM, MLM
    // and prefix LM; checkpoints at steps 2 and 3
    Map<String, Integer> perStep = new TreeMap<>(Map.ofEntries(Map.entry("step", 1), Map.entry("data_wait", 1),
        Map.entry("forward", 1), Map.entry("backward", 1), Map.entry("clip_grad", 1),
        Map.entry("optimizer_step", 1), Map.entry("momentum_forward", 1), Map.entry("vit", 2),
        Map.entry("text_encoder", 4), Map.entry("loss.itc", 1), Map.entry("loss.itm", 1), Map.entry("loss.mlm", 1),
        Map.entry("loss.prefix_lm", 1), Map.entry("fusion", 3), Map.entry("fusion.layer0", 3),
        Map.entry("fusion.layer1", 3), Map.entry("fusion.layer2", 3), Map.entry("decoder", 1)));
    Map<String, Integer> expected = new TreeMap<>();
    perStep.forEach((name, n) -> expected.put(name, 3 * n));
    expected.put("checkpoint_write", 2);
    Map<String, Integer> counted = new TreeMap<>(t.slices().stream()
        .filter(s -> !s.name().equals("load_batch"))
        .collect(Collectors.groupingBy(Slice::name, Collectors.summingInt(s -> 1))));
    assertEquals(expected, counted);

    Map<String, Set<String>> parents = Map.ofEntries(Map.entry("step", Set.of("")),
        Map.entry("checkpoint_write", Set.of("")), Map.entry("data_wait", Set.of("step")),
        Map.entry("forward", Set.of("step")), Map.entry("backward", Set.of("step")),
        Map.entry("clip_grad", Set.of("step")), Map.entry("optimizer_step", Set.of("step")),
        Map.entry("momentum_forward", Set.of("forward")), Map.entry("vit", Set.of("forward", "momentum_forward")),
        Map.entry("text_encoder", Set.of("forward", "momentum_forward", "loss.mlm", "loss.prefix_lm")),
        Map.entry("loss.itc", Set.of("forward")), Map.entry("loss.itm", Set.of("forward")),
        Map.entry("loss.mlm", Set.of("forward")), Map.entry("loss.prefix_lm", Set.of("forward")),
        Map.entry("fusion", Set.of("loss.itm", "loss.mlm", "loss.prefix_lm")),
        Map.entry("fusion.layer0", Set.of("fusion")), Map.entry("fusion.layer1", Set.of("fusion")),
        Map.entry("fusion.layer2", Set.of("fusion")), Map.entry("decoder", Set.of("loss.prefix_lm")),
        Map.entry("load_batch", Set.of("")));
    for (Slice s : t.slices()) {
      assertTrue(parents.get(s.name()).contains(t.parentName(s)), s + " inside " + t.parentName(s));
    }
    // one vit per step under each parent, the trainer on one thread, the loader's batches on its worker
    assertEquals(3, t.named("vit").stream().filter(s -> t.parentName(s).equals("momentum_forward")).count());
    long trainer = t.named("step").getFirst().tid();
    assertTrue(t.slices().stream().filter(s -> !s.name().equals("load_batch")).allMatch(s -> s.tid() == trainer));
    List<Slice> loads = t.named("load_batch");
    assertTrue(loads.size() >= 3, "the three batches were loaded: " + loads.size());
    assertNotEquals(trainer, loads.getFirst().tid());
    assertTrue(t.threadNames().get(loads.getFirst().tid()).startsWith("mplug-loader-"), t.threadNames().toString());
    // steps in order, each after the previous one ended
    List<Slice> steps = t.named("step");
    for (int i = 1; i < steps.size(); i++) assertTrue(steps.get(i - 1).end() <= steps.get(i).start());

    List<JsonNode> metrics = Files.readAllLines(out.resolve("metrics.jsonl")).stream().map(ProfiledTrainingTest::json)
        .toList();
    assertEquals(3, metrics.size());
    for (JsonNode line : metrics) {
      // the JVM and libtorch alone hold well over 50 MiB; a whole machine's worth would be a unit error
      double peak = line.get("mem/peak_rss_mib").asDouble();
      assertTrue(peak > 50 && peak < 64 << 10, line.toString());
      assertTrue(line.get("mem/native_outside_jvm_mib").asDouble() > 0, "NMT is on in the test JVM: " + line);
    }
  }

  @Test
  void anUnwritableProfileFileFailsBeforeTrainingWithOneLine() throws IOException {
    Path file = Files.writeString(tmp.resolve("a-file"), "");
    Path trace = file.resolve("trace.json");
    String line = CliErrorsTest.assertOneLine(CliErrorsTest.run("pretrain", "--config", "pretrain-demo", "--profile",
        trace.toString(), "--set", "output_dir=" + tmp.resolve("run")), 2, "mplug pretrain: ");
    assertEquals("mplug pretrain: profile " + trace + ": its folder cannot be created (FileAlreadyExistsException: "
        + file + ": already exists)", line);
    assertTrue(Files.notExists(tmp.resolve("run/metrics.jsonl")), "nothing trained");
  }

  private static JsonNode json(String line) {
    try {
      return new ObjectMapper().readTree(line);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
