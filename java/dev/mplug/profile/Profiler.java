package dev.mplug.profile;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Who listens to the {@link Range}s of this process: NVTX, when an Nsight tool is attached ({@link Nvtx}: decided once,
 * at the first range), and a {@link ChromeTrace} while one records ({@code --profile FILE}). Process-wide, as NVTX is:
 * the ranges of every thread (trainer, data-loader workers) go to the same listeners.
 */
public final class Profiler {
  private static final Nvtx NVTX = nvtxForTool();
  private static volatile ChromeTrace trace;
  /** Whether anything listens: the one flag {@link Range#open} reads. */
  private static volatile boolean listening = NVTX != null;

  private Profiler() {}

  /** NVTX when a tool is attached; a tool without a library to reach it by is said once, on stderr, not an error. */
  private static Nvtx nvtxForTool() {
    Optional<Nvtx> nvtx = Nvtx.forAttachedTool();
    if (nvtx.isEmpty() && Nvtx.toolAttached()) {
      System.err.println("mplug: an NVTX tool is attached (" + Nvtx.INJECTION_VARIABLE + ") but none of "
          + String.join(", ", Nvtx.LIBRARIES) + " loads: the ranges are not sent to it (install the CUDA toolkit's "
          + "libnvtx3interop.so.1 or add its folder to LD_LIBRARY_PATH)");
    }
    return nvtx.orElse(null);
  }

  /**
   * Starts recording every range of this process into a Chrome trace written to {@code file} when it is closed;
   * {@code processName} labels this process in the viewer (e.g. "mplug pretrain, rank 1"). One trace at a time.
   *
   * @throws IllegalArgumentException if {@code file} cannot be written (checked now, before any work)
   */
  public static synchronized ChromeTrace startTrace(Path file, String processName) {
    if (trace != null) throw new IllegalStateException("a trace is already being recorded to " + trace.file());
    ChromeTrace started = new ChromeTrace(file, processName);
    trace = started;
    listening = true;
    return started;
  }

  /** Stops sending ranges to {@code stopped} (a later trace may start); called when it closes. */
  static synchronized void stopTrace(ChromeTrace stopped) {
    if (trace != stopped) return;
    trace = null;
    listening = NVTX != null;
  }

  /** The NVTX library in use, when an Nsight tool is attached. */
  public static Optional<String> nvtxLibrary() {
    return Optional.ofNullable(NVTX).map(Nvtx::library);
  }

  static boolean listening() {
    return listening;
  }

  static void push(String name) {
    if (NVTX != null) NVTX.push(name);
    ChromeTrace t = trace;
    if (t != null) t.begin(name);
  }

  static void pop() {
    ChromeTrace t = trace;
    if (t != null) t.end();
    if (NVTX != null) NVTX.pop();
  }
}
