package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TorchRuntime;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The torchrun variables read into a {@link DistributedEnvironment}; a malformed one is named. */
class DistributedEnvironmentTest {
  private static Map<String, String> torchrun(String rank, String world) {
    return new HashMap<>(Map.of("RANK", rank, "LOCAL_RANK", rank, "WORLD_SIZE", world,
        "LOCAL_WORLD_SIZE", world, "MASTER_ADDR", "10.0.0.7", "MASTER_PORT", "29500",
        "TORCHELASTIC_RESTART_COUNT", "2"));
  }

  @Test
  void readsWhatTorchrunSets() {
    Map<String, String> env = torchrun("3", "4");
    env.put("MPLUG_DIST_TIMEOUT", "45");
    env.put("GLOO_SOCKET_IFNAME", "eth1");
    env.put("TORCHELASTIC_USE_AGENT_STORE", "True");
    assertEquals(new DistributedEnvironment(3, 3, 4, 4, "10.0.0.7", 29500, 2, "auto", Duration.ofSeconds(45), null,
        "eth1", true), DistributedEnvironment.fromEnvironment(env));
    assertEquals("10.0.0.7:29500", DistributedEnvironment.fromEnvironment(env).master());
  }

  @Test
  void eachLocalRankTakesItsOwnGpuAndTheCpuStays() {
    DistributedEnvironment third = new DistributedEnvironment(6, 2, 8, 4, "10.0.0.1", 29500, 0, "nccl",
        DistributedEnvironment.DEFAULT_TIMEOUT, null, null, false);
    assertEquals(new ComputeDevice(true, 2), third.deviceOfRank(ComputeDevice.parse("cuda", "device")));
    assertEquals(new ComputeDevice(true, 3), third.deviceOfRank(ComputeDevice.parse("cuda:1", "device")));
    assertEquals(ComputeDevice.CPU, third.deviceOfRank(ComputeDevice.CPU));
    assertEquals(new ComputeDevice(true, 1),
        DistributedEnvironment.single().deviceOfRank(ComputeDevice.parse("cuda:1", "device")), "one process: as given");
  }

  @Test
  void withoutWorldSizeItIsOneProcess() {
    DistributedEnvironment single = DistributedEnvironment.fromEnvironment(Map.of("RANK", "5"));
    assertFalse(single.distributed());
    assertEquals(0, single.rank());
    assertEquals(DistributedEnvironment.DEFAULT_TIMEOUT, single.timeout());
  }

  @Test
  void localRankDefaultsFromTheNodeSize() {
    Map<String, String> env = torchrun("5", "8");
    env.remove("LOCAL_RANK");
    env.put("LOCAL_WORLD_SIZE", "4");
    assertEquals(1, DistributedEnvironment.fromEnvironment(env).localRank());
  }

  @Test
  void badValuesAreNamed() {
    Map<String, String> env = torchrun("2", "2");
    assertEquals("RANK = 2 must be in [0, WORLD_SIZE = 2)", assertThrows(IllegalArgumentException.class,
        () -> DistributedEnvironment.fromEnvironment(env)).getMessage());
    Map<String, String> noPort = torchrun("0", "2");
    noPort.remove("MASTER_PORT");
    assertEquals("MASTER_PORT is not set (WORLD_SIZE is, so MASTER_PORT must be too)",
        assertThrows(IllegalArgumentException.class, () -> DistributedEnvironment.fromEnvironment(noPort))
            .getMessage());
    Map<String, String> word = torchrun("0", "two");
    assertEquals("WORLD_SIZE = \"two\" is not an integer", assertThrows(IllegalArgumentException.class,
        () -> DistributedEnvironment.fromEnvironment(word)).getMessage());
    Map<String, String> backend = torchrun("0", "2");
    backend.put("MPLUG_DIST_BACKEND", "mpi");
    assertEquals("MPLUG_DIST_BACKEND = mpi must be gloo, nccl or auto", assertThrows(IllegalArgumentException.class,
        () -> DistributedEnvironment.fromEnvironment(backend)).getMessage());
  }

  @Test
  void ncclWithoutCudaIsRefusedInOneLine() {
    Assumptions.assumeFalse(TorchRuntime.cudaAvailable(), "libtorch sees CUDA here: NCCL is not refused");
    Map<String, String> env = torchrun("0", "2");
    env.put("MPLUG_DIST_BACKEND", "nccl");
    var e = assertThrows(RuntimeException.class,
        () -> DistributedGroup.join(DistributedEnvironment.fromEnvironment(env)));
    assertEquals("MPLUG_DIST_BACKEND=nccl needs CUDA, but libtorch sees no CUDA device (build with -Pgpu on a GPU "
        + "machine, or use gloo on CPUs)", e.getMessage());
  }
}
