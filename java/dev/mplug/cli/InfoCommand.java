package dev.mplug.cli;

import dev.mplug.nativeops.NativeLibrary;
import dev.mplug.nativeops.NativeOps;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TorchRuntime;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mplug info}: what this installation runs on. */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Print versions (Java, libtorch, JavaCPP, OpenCV), CPU capability, thread settings, whether the "
        + "native extension loaded, whether CUDA is available and the devices --device accepts.")
public final class InfoCommand implements Callable<Integer> {
  @Option(names = "--threads", description = "Intra-op and BLAS threads to set before reporting (default: "
      + "MPLUG_THREADS, else OPENBLAS_NUM_THREADS, else all cores).")
  Integer threads;

  @Option(names = "--config", description = "Also print libtorch's full build configuration.")
  boolean config;

  @Override
  public Integer call() {
    PrintStream out = System.out;
    TorchRuntime.load();
    if (threads != null) TorchRuntime.setThreads(threads);
    row(out, "java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ", "
        + System.getProperty("java.home") + ")");
    row(out, "libtorch", TorchRuntime.libtorchVersion());
    row(out, "javacpp", TorchRuntime.javacppVersion());
    row(out, "opencv", opencvVersion());
    row(out, "cpu capability", TorchRuntime.cpuCapability());
    row(out, "bf16", Precision.cpuHasBf16Instructions()
        ? "hardware (" + String.join(", ", Precision.bf16InstructionFlags()) + "): bf16 autocast is the faster precision"
        : "no AVX512-BF16 or AMX-BF16: bf16 is emulated and slower than fp32 on this CPU (train in fp32)");
    row(out, "cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
    row(out, "threads", TorchRuntime.threads() + " intra-op (OpenMP) and BLAS; OPENBLAS_NUM_THREADS="
        + env("OPENBLAS_NUM_THREADS") + ", MPLUG_THREADS=" + env("MPLUG_THREADS"));
    if (NativeLibrary.isAvailable()) {
      row(out, "native extension", "loaded from " + NativeLibrary.load() + " (C API v" + NativeOps.abiVersion()
          + ", CUDA kernels " + (NativeOps.cudaCompiled() ? "compiled" : "not compiled") + ")");
    } else {
      row(out, "native extension", "NOT loaded: " + NativeLibrary.failureMessage());
    }
    row(out, "cuda", TorchRuntime.cudaAvailable() ? "available" : "not available (CPU libtorch or no device)");
    row(out, "devices", devices());
    if (config) TorchRuntime.buildConfig().forEach(out::println);
    return 0;
  }

  /** The values --device accepts here: cpu, and cuda:0 ... when the GPU libtorch sees devices (else why not). */
  private static String devices() {
    int n = TorchRuntime.cudaDeviceCount();
    if (n > 0) {
      return "cpu, " + IntStream.range(0, n).mapToObj(i -> "cuda:" + i).collect(Collectors.joining(", "));
    }
    return "cpu (no CUDA: " + (TorchRuntime.gpuBuild() ? "the GPU libtorch sees no device"
        : "this libtorch is the CPU build; mvn -Pgpu package for the GPU one") + ")";
  }

  private static String opencvVersion() {
    try {
      Loader.load(opencv_core.class);
      return opencv_core.CV_VERSION();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return "not loadable: " + e.getMessage();
    }
  }

  private static String env(String name) {
    String v = System.getenv(name);
    return v == null ? "(unset)" : v;
  }

  private static void row(PrintStream out, String key, String value) {
    out.printf("%-17s %s%n", key, value);
  }
}
