package dev.mplug.torch;

import org.bytedeco.pytorch.global.torch;

/**
 * A CPU autocast region, as Python's {@code torch.autocast("cpu", dtype)} context manager: eligible ops (matmul,
 * linear, conv, baddbmm, ...) run in the region's dtype, the rest in fp32, the fp32 master weights stay as they are.
 *
 * <p>libtorch caches the low-precision copy of every leaf weight that requires grad for as long as autocast is on,
 * so that a weight used twice in a forward is cast once. The cache must be emptied when the outermost region ends,
 * or the next step's forward runs on the copies made before the optimizer changed the weights (a model that then
 * barely learns). Python's {@code autocast.__exit__} does it when the nesting level returns to 0; so does
 * {@link #close()}. Regions nest: an inner region restores the outer one's state and leaves its cache alone.
 *
 * <pre>{@code
 * try (Autocast region = Autocast.cpu(Precision.BF16)) {
 *   loss = model.forward(batch);
 * }
 * loss.backward();
 * }</pre>
 */
public final class Autocast implements AutoCloseable {
  private final boolean wasEnabled;
  private final torch.ScalarType previousDtype;
  private boolean closed;

  private Autocast(Precision precision) {
    TorchRuntime.load();
    wasEnabled = torch.is_autocast_enabled(torch.DeviceType.CPU);
    previousDtype = torch.get_autocast_dtype(torch.DeviceType.CPU);
    if (precision.autocast()) torch.set_autocast_dtype(torch.DeviceType.CPU, precision.dtype());
    torch.set_autocast_enabled(torch.DeviceType.CPU, precision.autocast());
    torch.increment_nesting();
  }

  /**
   * Opens a CPU region for {@code precision}: autocast to its dtype, or, for {@link Precision#FP32}, a region with
   * autocast off (so an fp32 block can sit inside a bf16 one, as {@code autocast(enabled=False)} does).
   */
  public static Autocast cpu(Precision precision) {
    return new Autocast(precision);
  }

  /** Whether CPU autocast is on at this point of the program. */
  public static boolean active() {
    return torch.is_autocast_enabled(torch.DeviceType.CPU);
  }

  /** Leaves the region: restores the enclosing state and, leaving the outermost region, empties the weight cache. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    if (torch.decrement_nesting() == 0) torch.clear_cache();
    torch.set_autocast_enabled(torch.DeviceType.CPU, wasEnabled);
    torch.set_autocast_dtype(torch.DeviceType.CPU, previousDtype);
  }
}
