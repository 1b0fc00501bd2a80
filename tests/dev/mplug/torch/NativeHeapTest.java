package dev.mplug.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The C heap set up for tensors once libtorch is loaded: large activations come from the heap, not their own mmap. */
class NativeHeapTest {
  @Test
  void tensorsUpToTheMmapLimitComeFromTheHeapOnceTuned() {
    TorchRuntime.load();
    assertTrue(NativeHeap.tuneForTensors(), "glibc's mallopt refused the settings");
    long mapped = NativeHeap.mappedBytes();
    try (Tensor t = torch.ones(7L << 20)) {                    // 28 MiB of float32: below the 32 MiB threshold
      assertEquals(28L << 20, t.nbytes());
      assertEquals(mapped, NativeHeap.mappedBytes(), "a 28 MiB tensor got its own mmap");
    }
    try (Tensor t = torch.ones(16L << 20)) {                   // 64 MiB: above what glibc lets the threshold reach
      assertTrue(NativeHeap.mappedBytes() >= mapped + (64L << 20), "the measurement does not see mmapped blocks");
    }
  }

  @Test
  void outsideTheJvmIsTheHeapInUseLessTheJvmsOwnMallocs() {
    long jvm = NativeHeap.jvmMallocBytes();
    assertTrue(jvm > 0, "the test JVM runs with -XX:NativeMemoryTracking=summary (pom argLine)");
    long outside = NativeHeap.outsideJvmBytes();
    assertTrue(outside > 0 && outside < NativeHeap.inUseBytes(), "outside " + outside + ", in use "
        + NativeHeap.inUseBytes());
    TorchRuntime.load();
    long before = NativeHeap.outsideJvmBytes();
    try (Tensor t = torch.ones(16L << 20)) {                   // 64 MiB that libtorch mallocs
      long during = NativeHeap.outsideJvmBytes();
      assertTrue(during - before >= (64L << 20) && during - before < (72L << 20),
          "a 64 MiB tensor moved the outside-JVM count by " + (during - before) + " bytes");
    }
  }
}
