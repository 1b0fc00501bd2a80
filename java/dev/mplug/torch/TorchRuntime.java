package dev.mplug.torch;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The one place that loads libtorch and owns process-wide torch settings (threads, seed).
 *
 * <p>Loading fills the JavaCPP cache with the jar's natives BEFORE the first {@code Loader.load}: on an empty cache
 * the dynamic linker may otherwise resolve {@code libtorch_cpu.so} from a system-wide libtorch (Debian's
 * python3-torch ships 1.13) and crash the JVM. Every other class calls {@link #load()} first; it is idempotent.
 */
public final class TorchRuntime {
  private static final String NATIVE_ROOT = "/org/bytedeco/";
  private static volatile boolean loaded;
  private static volatile int threads = -1;

  private TorchRuntime() {}

  /** Loads libtorch (once per process); throws {@link TorchException} naming what is missing. */
  public static void load() {
    if (loaded) return;
    synchronized (TorchRuntime.class) {
      if (loaded) return;
      String platform = Loader.getPlatform();
      if (!platform.startsWith("linux-x86_64")) {
        throw new TorchException("unsupported platform " + platform + ": mplug-java ships libtorch for linux-x86_64 only");
      }
      try {
        // Fill the cache first: openblas (libtorch_cpu's BLAS) then pytorch itself.
        for (String lib : List.of("openblas", "pytorch")) {
          File[] files = Loader.cacheResources(NATIVE_ROOT + lib + "/" + platform + "/");
          if (files == null || files.length == 0) {
            throw new TorchException("the " + lib + " natives for " + platform + " are not on the class path "
                + "(is org.bytedeco:" + lib + ":" + platform + " a dependency? run ./mplug or mvn package)");
          }
        }
        OpenMpWaitPolicy.passiveUnlessSet();   // before libgomp loads with libtorch: no spinning beside BLAS
        Loader.load(torch.class);
      } catch (IOException | UnsatisfiedLinkError e) {
        throw new TorchException("could not load libtorch from the JavaCPP jars (cache " + cacheDir() + "): "
            + e.getMessage() + "; delete the cache folder and retry", e);
      }
      loaded = true;
      NativeHeap.tuneForTensors();   // large activations from the heap, not a fresh mmap per call
      if (threads < 0) setThreads(defaultThreads());
    }
  }

  /**
   * Sets intra-op threads (libtorch's OpenMP pool) and OpenBLAS threads to the same value. The two pools are separate:
   * OpenBLAS ignores {@code at::set_num_threads}, and two full pools on top of each other made matmuls ~10x slower.
   */
  public static synchronized void setThreads(int n) {
    if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
    load();
    torch.set_num_threads(n);
    openblas.blas_set_num_threads(n);
    threads = n;
  }

  /** The thread count set by {@link #setThreads} (after loading). */
  public static int threads() {
    load();
    return threads;
  }

  /** {@code MPLUG_THREADS} if set, else {@code OPENBLAS_NUM_THREADS} if set, else the available processors. */
  static int defaultThreads() {
    for (String var : List.of("MPLUG_THREADS", "OPENBLAS_NUM_THREADS")) {
      String v = System.getenv(var);
      if (v != null && !v.isBlank()) {
        try {
          int n = Integer.parseInt(v.strip());
          if (n >= 1) return n;
        } catch (NumberFormatException e) {
          throw new TorchException(var + "=" + v + " is not a positive integer");
        }
      }
    }
    return Runtime.getRuntime().availableProcessors();
  }

  /** Seeds libtorch's default generators (CPU and, where present, CUDA). */
  public static void seed(long seed) {
    load();
    torch.manual_seed(seed);
  }

  /**
   * The state of libtorch's default generator of {@code device} (the CPU's: dropout, multinomial, randperm and the
   * masks drawn on the host; a CUDA device's: what kernels on it draw), for exact resume.
   */
  public static byte[] rngState(ComputeDevice device) {
    load();
    Tensor state = generator(device).get_state();
    try {
      return bytesOf(state);
    } finally {
      state.close();
    }
  }

  /** Restores a state returned by {@link #rngState} for the same device kind. */
  public static void setRngState(ComputeDevice device, byte[] bytes) {
    load();
    Generator generator = generator(device);
    Tensor current = generator.get_state();
    try {
      if (current.numel() != bytes.length) {
        throw new TorchException(device + " generator state has " + bytes.length + " bytes, libtorch expects "
            + current.numel() + " (a state from another libtorch version?)");
      }
      current.data_ptr_byte().put(bytes);
      generator.set_state(current);
    } finally {
      current.close();
    }
  }

  private static Generator generator(ComputeDevice device) {
    return device.cuda() ? torch.globalContext().defaultGenerator(device.torchDevice())
        : torch.getDefaultCPUGenerator();
  }

  /** A generator state (a CPU byte tensor) as Java bytes. */
  private static byte[] bytesOf(Tensor state) {
    byte[] bytes = new byte[(int) state.numel()];
    state.contiguous().data_ptr_byte().get(bytes);
    return bytes;
  }

  /** Whether libtorch sees a usable CUDA device (always false with the CPU jar). */
  public static boolean cudaAvailable() {
    load();
    try {
      return torch.cuda_is_available();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return false;
    }
  }

  /** Whether this libtorch was built with CUDA (the GPU jar of the {@code gpu} Maven profile), device or not. */
  public static boolean gpuBuild() {
    return buildConfig().stream().anyMatch(l -> l.contains("USE_CUDA=ON") || l.contains("USE_CUDA=1"));
  }

  /** The CUDA devices libtorch sees (0 with the CPU jar). */
  public static int cudaDeviceCount() {
    if (!cudaAvailable()) return 0;
    return torch.cuda_device_count();
  }

  /**
   * The one check before anything is put on a GPU: throws a one-line {@link TorchException} (the CLI prints it as a
   * user error, exit 2) naming {@code who} asked and how to get CUDA, when libtorch sees no CUDA device.
   */
  public static void requireCuda(String who) {
    if (!cudaAvailable()) {
      throw new TorchException(who + " asked for CUDA, but libtorch sees no CUDA device: build with -Pgpu (GPU libtorch "
          + "jar) on a machine with an NVIDIA driver and the CUDA 13 runtime, cuBLAS, cuDNN 9 and NCCL 2 installed, "
          + "or run on the CPU");
    }
  }

  /** libtorch's version, parsed from its build configuration. */
  public static String libtorchVersion() {
    for (String line : buildConfig()) {
      String s = line.strip();
      int i = s.indexOf("TORCH_VERSION=");
      if (i >= 0) {
        int end = s.indexOf(',', i);
        return s.substring(i + "TORCH_VERSION=".length(), end < 0 ? s.length() : end).strip();
      }
    }
    return "unknown";
  }

  /** The CPU instruction set libtorch dispatches to (e.g. AVX512). */
  public static String cpuCapability() {
    load();
    return torch.get_cpu_capability().getString();
  }

  /** libtorch's {@code show_config()} lines. */
  public static List<String> buildConfig() {
    load();
    return new ArrayList<>(List.of(torch.show_config().getString().split("\n")));
  }

  /** The JavaCPP version on the class path. */
  public static String javacppVersion() {
    String v = Loader.class.getPackage().getImplementationVersion();
    return v != null ? v : "unknown";
  }

  static String cacheDir() {
    try {
      return Loader.getCacheDir().getPath();
    } catch (IOException e) {
      return "(unknown: " + e.getMessage() + ")";
    }
  }
}
