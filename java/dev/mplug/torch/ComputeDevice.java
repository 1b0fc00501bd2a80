package dev.mplug.torch;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Where a run's tensors live: the CPU or one CUDA device ({@code device: "cpu" | "cuda:N"} in configs, {@code --device}
 * on the commands). A value handed to whatever allocates or moves tensors (the trainer, the batch transfer, the
 * inference API), never a process-wide setting, so that the code paths a GPU takes also run, with "cpu", here.
 *
 * <p>{@link #requireAvailable} is the one check before anything goes to a GPU: a one-line {@link TorchException}
 * (the CLI's exit 2) that says what is missing: the GPU build of libtorch, a visible device, or this index.
 *
 * @param cuda whether this is a CUDA device
 * @param index the CUDA device index (0 for the CPU)
 */
public record ComputeDevice(boolean cuda, int index) {
  public static final ComputeDevice CPU = new ComputeDevice(false, 0);

  public ComputeDevice {
    if (index < 0 || (!cuda && index != 0)) {
      throw new IllegalArgumentException("device index " + index + " is invalid for " + (cuda ? "cuda" : "cpu"));
    }
  }

  /** {@code cpu}, {@code cuda} (= cuda:0) or {@code cuda:N}; anything else fails naming {@code key}. */
  public static ComputeDevice parse(String text, String key) {
    String v = text.strip().toLowerCase(Locale.ROOT);
    if (v.equals("cpu")) return CPU;
    if (v.equals("cuda")) return new ComputeDevice(true, 0);
    if (v.startsWith("cuda:")) {
      try {
        int index = Integer.parseInt(v.substring("cuda:".length()));
        if (index >= 0) return new ComputeDevice(true, index);
      } catch (NumberFormatException e) {
        // the message below
      }
    }
    throw new IllegalArgumentException(key + ": expected cpu or cuda:N, got '" + text + "'");
  }

  /** "cpu" or "cuda:N". */
  public String label() {
    return cuda ? "cuda:" + index : "cpu";
  }

  @Override
  public String toString() {
    return label();
  }

  /**
   * Returns this device when tensors can be put on it here; otherwise throws a one-line {@link TorchException} naming
   * {@code who} (e.g. "--device") and what to install or check.
   */
  public ComputeDevice requireAvailable(String who) {
    if (!cuda) return this;
    String asked = who + " " + label();
    if (!TorchRuntime.gpuBuild()) {
      throw new TorchException(asked + ": this libtorch is the CPU build; build with the GPU libtorch "
          + "(mvn -Pgpu package, see pom.xml) on a machine with an NVIDIA driver and the CUDA 13 runtime, cuBLAS, "
          + "cuDNN 9 and NCCL 2 installed, or use --device cpu");
    }
    int count = TorchRuntime.cudaDeviceCount();
    if (count == 0) {
      throw new TorchException(asked + ": the GPU libtorch sees no CUDA device (check the NVIDIA driver with "
          + "nvidia-smi, CUDA_VISIBLE_DEVICES and the CUDA 13 runtime libraries), or use --device cpu");
    }
    if (index >= count) {
      throw new TorchException(asked + ": libtorch sees " + count + " CUDA device(s), cuda:0 to cuda:" + (count - 1));
    }
    return this;
  }

  public torch.DeviceType type() {
    return cuda ? torch.DeviceType.CUDA : torch.DeviceType.CPU;
  }

  /** libtorch's device object. */
  public Device torchDevice() {
    return new Device(type(), (byte) (cuda ? index : -1));
  }

  /** The device {@code t} lives on. */
  public static ComputeDevice of(Tensor t) {
    Device d = t.device();
    return d.is_cuda() ? new ComputeDevice(true, Math.max(0, d.index())) : CPU;
  }

  /** Whether {@code t} lives on this device. */
  public boolean holds(Tensor t) {
    Device d = t.device();
    return d.type().value == type().value && (!cuda || d.index() == index);
  }

  /**
   * {@code t} on this device ({@code t} itself when it is there already); {@code nonBlocking} lets a copy from pinned
   * host memory overlap with compute (the caller orders it with a stream).
   */
  public Tensor to(Tensor t, boolean nonBlocking) {
    if (holds(t)) return t;
    return t.to(torchDevice(), t.scalar_type(), nonBlocking, false, new MemoryFormatOptional());
  }

  /** {@code t} on this device, copied synchronously where it is elsewhere ({@code t} itself where it is here). */
  public Tensor to(Tensor t) {
    return to(t, false);
  }

  /** An uninitialised float32 tensor of {@code shape} on this device (an index filled batch by batch). */
  public Tensor empty(long... shape) {
    TensorOptions options = new TensorOptions(torchDevice()).dtype(new ScalarTypeOptional(torch.ScalarType.Float));
    return torch.empty(shape, options, new MemoryFormatOptional());
  }

  /**
   * Moves {@code t} to this device in place, keeping the tensor object (so every handle on it, a parameter's
   * optimizer entry or a task's queue, sees the moved data), as {@code Module.to} moves parameters.
   */
  public void moveInPlace(Tensor t) {
    if (holds(t)) return;
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      t.__dispatch_set_data(to(t, false));
    }
  }

  /**
   * CPU copies of {@code tensors} where they live elsewhere (the tensors themselves where they are on the CPU): a
   * checkpoint is always written from the CPU, so it loads on either device.
   */
  public static Map<String, Tensor> onCpu(Map<String, Tensor> tensors) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    tensors.forEach((k, v) -> out.put(k, CPU.to(v.detach(), false)));
    return out;
  }
}
