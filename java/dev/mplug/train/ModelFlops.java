package dev.mplug.train;

import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Model FLOPs utilisation: achieved training FLOP/s against this machine's measured matmul rate of the precision in
 * use.
 */
public final class ModelFlops {
  private ModelFlops() {}

  /**
   * Measures the matmul rate (FLOP/s) of {@code precision}'s dtype on {@code device} (the training device: a GPU
   * run's MFU is measured against the GPU) with the current thread settings: n x n matmuls for about
   * {@code seconds} (for bf16 on the CPU the rate of oneDNN's bf16 kernels, the one a bf16 step's MFU is measured
   * against).
   */
  public static double measureMatmulPeak(int n, double seconds, Precision precision, ComputeDevice device) {
    try (TensorScope scope = TensorScope.open()) {
      Tensor a = device.to(torch.randn(n, n)).to(precision.dtype());
      Tensor b = device.to(torch.randn(n, n)).to(precision.dtype());
      Tensor c = torch.matmul(a, b);              // warm up
      c.sum().item_double();                      // a read-back waits for a device's queued kernels
      long runs = 0;
      long start = System.nanoTime();
      long deadline = start + (long) (seconds * 1e9);
      while (System.nanoTime() < deadline || runs < 2) {
        try (TensorScope inner = TensorScope.open()) {
          torch.matmul(a, b).sum().item_double(); // done when read (CPU kernels return when done anyway)
        }
        runs++;
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      return 2.0 * n * n * n * runs / elapsed;
    }
  }

  /** MFU in [0, 1]: flopsPerSample * samplesPerSecond / peak. */
  public static double utilisation(double flopsPerSample, double samplesPerSecond, double peakFlops) {
    return peakFlops <= 0 ? 0 : flopsPerSample * samplesPerSecond / peakFlops;
  }
}
