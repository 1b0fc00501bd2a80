package dev.mplug.torch;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.cuda.CUDAEvent;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.cuda.CUDAStreamGuard;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * Copies host tensors (a batch from the data loader) to a {@link ComputeDevice}. On a CUDA device each tensor is
 * first put in pinned (page-locked) host memory, then copied asynchronously on a separate copy stream, so the copy
 * does not queue behind the compute stream's kernels; {@link #ready()} makes the compute stream wait for the copies
 * (an event, not a host synchronisation) and tells the caching allocator that the compute stream uses their memory.
 * On the CPU a tensor is handed back as it is and {@link #ready()} does nothing.
 *
 * <p>The CUDA classes are touched only when the device is a CUDA one, so the CPU build of libtorch never loads them.
 */
public abstract sealed class HostToDeviceCopy permits HostToDeviceCopy.OnCpu, HostToDeviceCopy.OnCuda {
  /** The copier for {@code device} (checked with {@link ComputeDevice#requireAvailable} first). */
  public static HostToDeviceCopy to(ComputeDevice device) {
    return device.cuda() ? new OnCuda(device) : new OnCpu();
  }

  /** {@code host} on the device; for CUDA the copy may still be in flight until {@link #ready()}. */
  public abstract Tensor copy(Tensor host);

  /** Orders the compute stream after every copy issued since the last call. */
  public abstract void ready();

  /** The CPU: nothing to copy. */
  static final class OnCpu extends HostToDeviceCopy {
    @Override
    public Tensor copy(Tensor host) {
      return host;
    }

    @Override
    public void ready() {}
  }

  /** A CUDA device: pinned staging, a copy stream from libtorch's pool, an event per batch. */
  static final class OnCuda extends HostToDeviceCopy {
    private final ComputeDevice device;
    private final CUDAStream copyStream;
    private final List<Tensor> inFlight = new ArrayList<>();

    OnCuda(ComputeDevice device) {
      this.device = device;
      this.copyStream = torch_cuda.getStreamFromPool(false, (byte) device.index());
      copyStream.retainReference();
    }

    @Override
    public Tensor copy(Tensor host) {
      if (device.holds(host)) return host;
      Tensor pinned = host.is_pinned() ? host : host.pin_memory();
      try (CUDAStreamGuard _ = new CUDAStreamGuard(copyStream.unwrap())) {
        Tensor moved = device.to(pinned, true);
        inFlight.add(moved);
        return moved;
      }
    }

    @Override
    public void ready() {
      CUDAStream compute = torch_cuda.getCurrentCUDAStream((byte) device.index());
      try (CUDAEvent copied = new CUDAEvent()) {
        copied.record(copyStream);
        copied.block(compute);
      }
      for (Tensor t : inFlight) t.record_stream(compute.unwrap());   // freed memory waits for the compute stream
      inFlight.clear();
    }
  }
}
