package dev.mplug.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.GenerationConfig;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.model.TextConfig;
import dev.mplug.model.VisionConfig;
import dev.mplug.testing.NativeMemoryTrend;
import dev.mplug.torch.NativeHeap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No native memory stays behind, measured as the C heap's bytes in use outside the JVM's own mallocs
 * ({@link NativeHeap#outsideJvmBytes()}: where libtorch's CPU allocator takes tensors; the resident set alone also
 * holds pages glibc keeps for reuse after a free) and as the
 * resident set after {@code malloc_trim}: both are flat over repeated calls and over repeated load / close of a 90 MB
 * model (a model whose weights survived close until a garbage collection, as a plain {@code Module.close()} leaves
 * them, added 90 MB per cycle). Figures are printed; {@code -Dmplug.api.calls=2000} runs the 2,000 calls
 * (default 300, to keep the suite short).
 */
class MPlugModelMemoryTest {
  @TempDir Path dir;

  @Test
  void repeatedCallsLeaveNoNativeMemoryBehind() {
    Path world = RandomCheckpoint.world(dir);
    Path demo = RandomCheckpoint.demo(world, 5);
    int calls = Integer.getInteger("mplug.api.calls", 300);
    try (MPlugModel vqa = MPlugModel.builder(demo).task(Task.VQA).threads(1).build()) {
      List<ImageText> requests = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        requests.add(new ImageText(ImageInput.of(RandomCheckpoint.image(world, i)), "what color is shape " + i + "?"));
      }
      for (int i = 0; i < 50; i++) vqa.answerAll(requests.subList(i % 4, i % 4 + 1));   // warm-up: allocator pools
      long before = trimmedRssKiB();
      long jvmBefore = jvmCommittedKiB();
      int samples = 30;   // one every calls / 30 calls
      NativeMemoryTrend heap = new NativeMemoryTrend(samples);
      for (int i = 0; i < calls; i++) {
        vqa.answerAll(requests.subList(i % 4, i % 4 + 1));
        if ((i + 1) % (calls / samples) == 0 && (i + 1) / (calls / samples) <= samples) heap.sample();
      }
      long after = trimmedRssKiB();
      long jvmAfter = jvmCommittedKiB();
      System.out.printf("over %d VQA calls: native memory outside the JVM %+d KiB (median of the last third against "
          + "the first; samples %s KiB); RSS after trim %d -> %d MiB (%+d KiB), of which the JVM's own %+d KiB%n",
          calls, heap.growthSince(0), Arrays.toString(heap.kib()), before >> 10, after >> 10, after - before,
          jvmAfter - jvmBefore);
      heap.assertFlatSince(0, 4 * 1024, calls + " VQA calls");
      long nativeGrowth = (after - before) - (jvmAfter - jvmBefore);
      assertTrue(nativeGrowth < 32 * 1024, "RSS outside the JVM's heaps grew by " + nativeGrowth + " KiB over "
          + calls + " calls");
    }
  }

  @Test
  void loadAndCloseCyclesReturnTheWeightsMemory() throws IOException {
    Path world = RandomCheckpoint.world(dir);
    // about 25 M parameters: 100 MB of fp32 weights
    MPlugConfig config = new MPlugConfig(new VisionConfig(64, 8, 384, 4, 6, 4, 0),
        new TextConfig(384, 6, 1536, 1280, 40, 2, 1e-12, 0.1, 0.1, 2, 3, 2, 2, 0), 64, 0.07,
        new GenerationConfig(3, 1, 5, 101, 102, 0.6), Part.all());
    Path file = RandomCheckpoint.save(config, world.resolve("medium.safetensors"), 3);
    long weights = Files.size(file) >> 10;
    ImageInput image = ImageInput.of(RandomCheckpoint.image(world, 0));
    long[] heap = new long[6];
    long[] rss = new long[heap.length];
    for (int cycle = 0; cycle < rss.length; cycle++) {
      try (MPlugModel vqa = MPlugModel.builder(file).task(Task.VQA).threads(1).build()) {
        vqa.answer(image, "what is it?");
      }
      heap[cycle] = NativeHeap.inUseBytes() >> 10;
      rss[cycle] = trimmedRssKiB();
    }
    long heapGrowth = heap[heap.length - 1] - heap[1];
    long growth = rss[rss.length - 1] - rss[1];
    System.out.printf("after each load/answer/close cycle of a %d MiB model: C heap in use %s MiB, RSS after trim %s "
        + "MiB (%+d KiB in use, %+d KiB resident after cycle 1)%n", weights >> 10,
        Arrays.stream(heap).map(k -> k >> 10).boxed().toList(), Arrays.stream(rss).map(k -> k >> 10).boxed().toList(),
        heapGrowth, growth);
    assertTrue(heapGrowth < weights / 4, "the C heap grew by " + heapGrowth + " KiB over " + (heap.length - 2)
        + " cycles of a " + weights + " KiB model");
    assertTrue(growth < weights / 2, "RSS grew by " + growth + " KiB over " + (rss.length - 2) + " cycles of a "
        + weights + " KiB model");
  }

  /**
   * What the JVM has committed for itself (heap, code, metadata, thread stacks and its own mallocs), KiB, from its
   * native memory tracking; the pom's test argLine turns it on.
   */
  static long jvmCommittedKiB() {
    long bytes = NativeHeap.jvmCommittedBytes();
    assertTrue(bytes >= 0, "the JVM's own memory cannot be measured: run it with -XX:NativeMemoryTracking=summary");
    return bytes >> 10;
  }

  /** The process's resident set (VmRSS of /proc/self/status) after freed C heap pages went back, KiB. */
  static long trimmedRssKiB() {
    NativeHeap.trim();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/self/status", e);
    }
    throw new IllegalStateException("/proc/self/status has no VmRSS");
  }
}
