package dev.mplug.torch;

import org.bytedeco.pytorch.global.torch;

/**
 * An autocast region on one device type, as Python's {@code torch.autocast("cpu" | "cuda", dtype)} context manager: eligible ops (matmul,
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
  /**
   * The autocast state of one device type at some point of the program, to enter the same state again later (an
   * activation checkpoint's recomputation in backward runs as its forward did).
   */
  public record Setting(torch.DeviceType device, boolean enabled, torch.ScalarType dtype) {}

  private final torch.DeviceType device;
  private final boolean wasEnabled;
  private final torch.ScalarType previousDtype;
  private boolean closed;

  private Autocast(Setting next) {
    TorchRuntime.load();
    device = next.device();
    wasEnabled = torch.is_autocast_enabled(device);
    previousDtype = torch.get_autocast_dtype(device);
    if (next.enabled()) torch.set_autocast_dtype(device, next.dtype());
    torch.set_autocast_enabled(device, next.enabled());
    torch.increment_nesting();
  }

  /**
   * Opens a CPU region for {@code precision}: autocast to its dtype, or, for {@link Precision#FP32}, a region with
   * autocast off (so an fp32 block can sit inside a bf16 one, as {@code autocast(enabled=False)} does).
   */
  public static Autocast cpu(Precision precision) {
    return on(torch.DeviceType.CPU, precision);
  }

  /** {@link #cpu} for the tensors of {@code device} (CPU or CUDA autocast). */
  public static Autocast on(torch.DeviceType device, Precision precision) {
    return new Autocast(new Setting(device, precision.autocast(), precision.dtype()));
  }

  /** The autocast state of {@code device} here. */
  public static Setting setting(torch.DeviceType device) {
    TorchRuntime.load();
    return new Setting(device, torch.is_autocast_enabled(device), torch.get_autocast_dtype(device));
  }

  /** A region in the state {@code setting} recorded (closing it restores the state around it). */
  public static Autocast replay(Setting setting) {
    return new Autocast(setting);
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
    torch.set_autocast_enabled(device, wasEnabled);
    torch.set_autocast_dtype(device, previousDtype);
  }
}
