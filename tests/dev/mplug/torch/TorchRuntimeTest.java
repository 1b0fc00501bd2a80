package dev.mplug.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.nativeops.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class TorchRuntimeTest {
  @Test
  void loadsTheJarsLibtorch() {
    TorchRuntime.load();
    assertTrue(TorchRuntime.libtorchVersion().startsWith("2.10"), TorchRuntime.libtorchVersion());
    assertFalse(TorchRuntime.cpuCapability().isBlank());
  }

  @Test
  void libtorchComesFromTheJarNeverFromTheSystem() throws IOException {
    TorchRuntime.load();
    NativeLibrary.load();
    String cache = Loader.getCacheDir().getCanonicalPath();
    var torchLibs = Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .map(line -> line.substring(line.lastIndexOf(' ') + 1))
        .filter(path -> path.matches(".*/lib(torch_cpu|c10)\\.so.*"))
        .distinct()
        .toList();
    assertFalse(torchLibs.isEmpty(), "libtorch_cpu/libc10 mapped");
    for (String path : torchLibs) {
      assertTrue(path.startsWith(cache), path + " is not from the JavaCPP cache " + cache);
    }
  }

  @Test
  void threadsSettingReachesLibtorch() {
    int before = TorchRuntime.threads();
    try {
      TorchRuntime.setThreads(1);
      assertEquals(1, torch.get_num_threads());
      TorchRuntime.setThreads(2);
      assertEquals(2, torch.get_num_threads());
      assertEquals(2, TorchRuntime.threads());
    } finally {
      TorchRuntime.setThreads(before);
    }
    assertThrows(IllegalArgumentException.class, () -> TorchRuntime.setThreads(0));
  }

  @Test
  void scopeReleasesEverythingButWhatIsKept() {
    Tensor kept;
    Tensor dropped;
    try (TensorScope scope = TensorScope.open()) {
      Tensor a = torch.ones(2, 3);
      dropped = a.mul(Tensors.scalar(2));
      kept = scope.keep(a.add(Tensors.scalar(1)));
    }
    assertTrue(dropped.isNull(), "a tensor created in the scope is released when it closes");
    assertFalse(kept.isNull(), "a kept tensor survives");
    assertEquals(12.0, kept.sum().item_double(), 0.0);
    kept.close();
  }

  @Test
  void nestedScopeHandsKeptTensorsToTheOuterOne() {
    Tensor inner;
    try (TensorScope outer = TensorScope.open()) {
      try (TensorScope scope = TensorScope.open()) {
        inner = scope.keep(torch.ones(4));
      }
      assertFalse(inner.isNull(), "alive while the outer scope is open");
      assertEquals(4.0, inner.sum().item_double(), 0.0);
    }
    assertTrue(inner.isNull(), "released with the outer scope");
  }

  @Test
  void nativeErrorsBecomeTorchExceptionsWithTheMessage() {
    TorchException e = assertThrows(TorchException.class,
        () -> TorchException.wrap("matmul of mismatched shapes", () -> torch.matmul(torch.ones(2, 3), torch.ones(4, 5))));
    assertTrue(e.getMessage().startsWith("matmul of mismatched shapes: "), e.getMessage());
    assertTrue(e.getMessage().contains("cannot be multiplied"), e.getMessage());
    assertFalse(e.getMessage().contains("Exception raised from"), "C++ backtrace trimmed: " + e.getMessage());
  }

  @Test
  void requireCudaNamesTheFix() {
    if (TorchRuntime.cudaAvailable()) return; // nothing to check on a CUDA machine
    TorchException e = assertThrows(TorchException.class, () -> TorchRuntime.requireCuda("test"));
    assertTrue(e.getMessage().contains("-Pgpu") && e.getMessage().contains("device=cpu"), e.getMessage());
  }
}
