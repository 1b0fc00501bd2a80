package dev.mplug.torch;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.cuda.DeviceStats;
import org.bytedeco.pytorch.global.torch;

/**
 * The CUDA caching allocator's counters of one device, for the training metrics: memory held by live tensors
 * ("allocated", now and its peak since {@link #resetPeak}) and memory the allocator holds from the driver
 * ("reserved"). Only for CUDA devices: on the CPU there is nothing to report, and the CPU build of libtorch never
 * touches these classes.
 */
public final class CudaMemory {
  private static final double MIB = 1 << 20;

  private CudaMemory() {}

  /** Starts a new peak (e.g. at the start of a training step); nothing on the CPU. */
  public static void resetPeak(ComputeDevice device) {
    if (device.cuda()) torch.resetPeakStats((byte) device.index());
  }

  /**
   * {@code mem/cuda_allocated_mib}, {@code mem/cuda_peak_allocated_mib} (since the last {@link #resetPeak}) and
   * {@code mem/cuda_reserved_mib} of a CUDA device; empty for the CPU.
   */
  public static Map<String, Double> metrics(ComputeDevice device) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (!device.cuda()) return out;
    try (DeviceStats stats = torch.getDeviceStats((byte) device.index())) {
      // the first entry of each stat array is the aggregate over the small and large pools
      out.put("mem/cuda_allocated_mib", stats.allocated_bytes().current() / MIB);
      out.put("mem/cuda_peak_allocated_mib", stats.allocated_bytes().peak() / MIB);
      out.put("mem/cuda_reserved_mib", stats.reserved_bytes().current() / MIB);
    }
    return out;
  }
}
