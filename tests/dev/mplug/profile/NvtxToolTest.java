package dev.mplug.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.testing.TraceFile;
import dev.mplug.testing.TraceFile.Slice;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NVTX path end to end: {@code mplug pretrain} started under an NVTX tool (a small recording tool built from
 * {@code tests/fixtures/nvtx-tool}, loaded by NVTX from {@code NVTX_INJECTION64_PATH} as Nsight's is) hands the tool
 * the same ranges, nested the same way, as the Chrome trace it writes at the same time. Needs a C compiler and CUDA's
 * NVTX library ({@code libnvtx3interop.so.1}); skipped without them.
 */
class NvtxToolTest {
  @TempDir Path tmp;

  /** One range as the tool saw it: its name and the name of the range it was opened in ("" for none). */
  private record Nested(String name, String parent) {}

  private static final Comparator<Nested> NESTED_ORDER =
      Comparator.comparing(Nested::name).thenComparing(Nested::parent);

  @Test
  void anAttachedToolReceivesTheTrainersRangesNestedAsInTheTrace() throws Exception {
    assumeTrue(Nvtx.load(Nvtx.LIBRARIES).isPresent(), "no NVTX library (CUDA's libnvtx3interop.so.1)");
    Path tool = tmp.resolve("librecording_tool.so");
    assumeTrue(run(List.of("cc", "-shared", "-fPIC", "-o", tool.toString(),
        Path.of("tests/fixtures/nvtx-tool/recording_tool.c").toString(), "-lpthread"), Map.of(), 60) == 0,
        "no C compiler to build the recording tool");

    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(24, 0, 5, 64));
    Path log = tmp.resolve("nvtx.log");
    Path trace = tmp.resolve("trace.json");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-Xss4m", "-Xmx1g", "-cp",
        "target/classes:" + Files.readString(Path.of("target/classpath.txt")).strip(), "dev.mplug.cli.Main",
        "pretrain", "--config", "pretrain-demo", "--profile", trace.toString()));
    for (String set : List.of("data.annotations=" + world.resolve(SynthFiles.PRETRAIN), "data.root=" + world,
        "output_dir=" + tmp.resolve("run"), "threads=1", "data.workers=1", "data.batch_size=4", "train.total_steps=2",
        "train.warmup_steps=1", "train.checkpoint_every=2")) {
      cmd.addAll(List.of("--set", set));
    }
    Path output = tmp.resolve("output.txt");
    int status = run(cmd, Map.of(Nvtx.INJECTION_VARIABLE, tool.toString(), "MPLUG_NVTX_TOOL_LOG", log.toString(),
        "OPENBLAS_NUM_THREADS", "1"), 300, output);
    assertEquals(0, status, Files.readString(output));

    // the tool's view: per thread a stack of pushes and pops, balanced, each pop at the depth its push had
    Map<String, Deque<String>> open = new HashMap<>();
    Map<Nested, Integer> seen = new TreeMap<>(NESTED_ORDER);
    Map<String, List<String>> byThread = new HashMap<>();
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      String[] f = line.split(" ", 4);
      Deque<String> stack = open.computeIfAbsent(f[0], t -> new ArrayDeque<>());
      int depth = Integer.parseInt(f[2]);
      if (f[1].equals("push")) {
        assertEquals(stack.size(), depth, line);
        seen.merge(new Nested(f[3], stack.isEmpty() ? "" : stack.peek()), 1, Integer::sum);
        byThread.computeIfAbsent(f[0], t -> new ArrayList<>()).add(f[3]);
        stack.push(f[3]);
      } else {
        assertEquals(stack.size() - 1, depth, line);
        stack.pop();
      }
    }
    open.forEach((thread, stack) -> assertTrue(stack.isEmpty(), "thread " + thread + " left " + stack + " open"));

    // the trace's view of the trainer thread, and the tool's: the same ranges under the same parents
    TraceFile t = TraceFile.read(trace);
    Map<Nested, Integer> traced = new TreeMap<>(NESTED_ORDER);
    for (Slice s : t.slices()) {
      if (!s.name().equals("load_batch")) traced.merge(new Nested(s.name(), t.parentName(s)), 1, Integer::sum);
    }
    Map<Nested, Integer> trainerSeen = new TreeMap<>(NESTED_ORDER);
    seen.forEach((n, count) -> {
      if (!n.name().equals("load_batch")) trainerSeen.put(n, count);
    });
    assertEquals(traced, trainerSeen);
    assertEquals(2, traced.get(new Nested("step", "")));
    // the loader's batches on their own thread
    String trainer = byThread.entrySet().stream().filter(e -> e.getValue().contains("step")).findFirst().orElseThrow()
        .getKey();
    assertTrue(byThread.entrySet().stream().anyMatch(e -> !e.getKey().equals(trainer)
        && e.getValue().contains("load_batch")), byThread.keySet().toString());
    assertNotEquals(0, seen.getOrDefault(new Nested("load_batch", ""), 0));
  }

  private static int run(List<String> cmd, Map<String, String> env, long seconds) throws IOException,
      InterruptedException {
    return run(cmd, env, seconds, null);
  }

  private static int run(List<String> cmd, Map<String, String> env, long seconds, Path output) throws IOException,
      InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.redirectOutput(output == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(output.toFile()));
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return -1;   // the program is not installed
    }
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
