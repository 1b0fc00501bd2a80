package dev.mplug.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The device value: parsing, the one-line refusals without CUDA, and the CPU side of every move. */
class ComputeDeviceTest {
  @Test
  void parsesCpuAndCudaIndices() {
    assertEquals(ComputeDevice.CPU, ComputeDevice.parse(" CPU ", "k"));
    assertEquals(new ComputeDevice(true, 0), ComputeDevice.parse("cuda", "k"));
    assertEquals("cuda:3", ComputeDevice.parse("cuda:3", "k").label());
    for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "cpu:0"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComputeDevice.parse(bad, "--device"));
      assertEquals("--device: expected cpu or cuda:N, got '" + bad + "'", e.getMessage());
    }
  }

  @Test
  void cudaIsRefusedInOneLineSayingWhatToInstall() {
    TorchRuntime.load();
    assertSame(ComputeDevice.CPU, ComputeDevice.CPU.requireAvailable("--device"));
    assumeFalse(TorchRuntime.cudaAvailable(), "a CUDA machine: nothing to refuse");
    TorchException e = assertThrows(TorchException.class,
        () -> new ComputeDevice(true, 0).requireAvailable("--device"));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    if (TorchRuntime.gpuBuild()) {
      assertTrue(e.getMessage().startsWith("--device cuda:0: the GPU libtorch sees no CUDA device"), e.getMessage());
    } else {
      assertTrue(TorchRuntime.buildConfig().stream().anyMatch(l -> l.contains("USE_CUDA=0") || l.contains("USE_CUDA=OFF")),
          "the CPU jar says so in its build settings");
      assertTrue(e.getMessage().startsWith("--device cuda:0: this libtorch is the CPU build; build with the GPU "
          + "libtorch (mvn -Pgpu package"), e.getMessage());
    }
    assertEquals(0, TorchRuntime.cudaDeviceCount());
  }

  @Test
  void onTheCpuMovesKeepTheTensors() {
    TorchRuntime.load();
    try (TensorScope _ = TensorScope.open()) {
      Tensor t = torch.randn(2, 3);
      assertTrue(ComputeDevice.CPU.holds(t));
      assertFalse(new ComputeDevice(true, 0).holds(t));
      assertSame(t, ComputeDevice.CPU.to(t, true));
      long before = t.data_ptr().address();
      ComputeDevice.CPU.moveInPlace(t);
      assertEquals(before, t.data_ptr().address(), "nothing moved");
      Map<String, Tensor> state = new LinkedHashMap<>(Map.of("w", t));
      Map<String, Tensor> cpu = ComputeDevice.onCpu(state);
      assertEquals(before, cpu.get("w").data_ptr().address(), "CPU tensors are written as they are");
      HostToDeviceCopy copy = HostToDeviceCopy.to(ComputeDevice.CPU);
      assertSame(t, copy.copy(t));
      copy.ready();
    }
  }

  @Test
  void theDeviceOfATensorIsReadFromItAndHostReadsCopyAndConvert() {
    TorchRuntime.load();
    try (TensorScope _ = TensorScope.open()) {
      Tensor t = torch.arange(new Scalar(6)).view(2, 3).t();   // int64, not contiguous
      assertEquals(ComputeDevice.CPU, ComputeDevice.of(t));
      assertSame(t, ComputeDevice.CPU.to(t));
      Tensor host = Tensors.onHost(t, torch.ScalarType.Float);
      assertTrue(host.is_contiguous() && ComputeDevice.CPU.holds(host));
      assertEquals(torch.ScalarType.Float.value, host.scalar_type().value);
      assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, Tensors.toFloats(t));
      assertArrayEquals(new long[] {0, 3, 1, 4, 2, 5}, Tensors.toLongs(t));
      Tensor index = ComputeDevice.CPU.empty(4, 2);
      assertArrayEquals(new long[] {4, 2}, Tensors.shape(index));
      assertEquals(torch.ScalarType.Float.value, index.scalar_type().value);
      assertEquals(ComputeDevice.CPU, ComputeDevice.of(index));
    }
  }

  @Test
  void generatorStatesPutTheDrawsBackWhereTheyWere() {
    TorchRuntime.seed(11);
    GeneratorStates states = GeneratorStates.capture(ComputeDevice.CPU);
    assertNull(states.cuda(), "no CUDA generator in a CPU run");
    float[] first = Tensors.toFloats(torch.rand(5));
    TorchRuntime.seed(12);                                 // an evaluation reseeds, as MaskedTokenAccuracy does
    assertFalse(Arrays.equals(first, Tensors.toFloats(torch.rand(5))));
    states.restore();
    assertArrayEquals(first, Tensors.toFloats(torch.rand(5)), "the draws continue as if nothing had run");
    byte[] cpu = TorchRuntime.rngState(ComputeDevice.CPU);
    TorchException e = assertThrows(TorchException.class,
        () -> TorchRuntime.setRngState(ComputeDevice.CPU, Arrays.copyOf(cpu, 3)));
    assertEquals("cpu generator state has 3 bytes, libtorch expects " + cpu.length + " (a state from another "
        + "libtorch version?)", e.getMessage());
  }
}
