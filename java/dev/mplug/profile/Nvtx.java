package dev.mplug.profile;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * NVIDIA's tools extension (NVTX) through FFM: {@code nvtxRangePushA} / {@code nvtxRangePop}, which Nsight Systems and
 * Nsight Compute show as named ranges on each thread's timeline. The functions come from the library CUDA 13 ships for
 * callers that cannot use the header-only NVTX 3 ({@code libnvtx3interop.so.1}) or, on older CUDA, from
 * {@code libnvToolsExt.so.1}; without either the binding is absent, which is not an error.
 *
 * <p>NVTX hands ranges to a tool only when the tool's injection library is named by {@code NVTX_INJECTION64_PATH}
 * (nsys and ncu set it in the process they start); otherwise every call returns {@link #NO_TOOL} and does nothing.
 * {@link #forAttachedTool()} therefore loads the library only under such a tool, so that a run without one never
 * calls into it.
 */
public final class Nvtx {
  /** The libraries tried, in order: CUDA 13's interop library, then NVTX 2's. */
  public static final List<String> LIBRARIES =
      List.of("libnvtx3interop.so.1", "libnvtx3interop.so", "libnvToolsExt.so.1", "libnvToolsExt.so");
  /** The environment variable through which a tool attaches to NVTX. */
  public static final String INJECTION_VARIABLE = "NVTX_INJECTION64_PATH";
  /** What push and pop return while no tool is attached ({@code NVTX_NO_PUSH_POP_TRACKING}). */
  public static final int NO_TOOL = -2;

  private static final Linker LINKER = Linker.nativeLinker();

  private final String library;
  private final MethodHandle push;
  private final MethodHandle pop;
  /** Range names as C strings, made once per name: the names are a fixed set of constants. */
  private final Map<String, MemorySegment> names = new ConcurrentHashMap<>();

  private Nvtx(String library, SymbolLookup lookup) {
    this.library = library;
    this.push = LINKER.downcallHandle(lookup.findOrThrow("nvtxRangePushA"),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    this.pop = LINKER.downcallHandle(lookup.findOrThrow("nvtxRangePop"), FunctionDescriptor.of(ValueLayout.JAVA_INT));
  }

  /** Whether a tool attaches to NVTX in this process ({@value #INJECTION_VARIABLE} is set). */
  public static boolean toolAttached() {
    String injection = System.getenv(INJECTION_VARIABLE);
    return injection != null && !injection.isBlank();
  }

  /** The binding when a tool is attached and a library is found; else empty. */
  public static Optional<Nvtx> forAttachedTool() {
    return toolAttached() ? load(LIBRARIES) : Optional.empty();
  }

  /** The first of {@code libraries} (names for the system loader, or paths) that loads and has both functions. */
  public static Optional<Nvtx> load(List<String> libraries) {
    for (String name : libraries) {
      try {
        // the global arena: the library stays loaded while the process runs, as the tool expects
        return Optional.of(new Nvtx(name, SymbolLookup.libraryLookup(name, Arena.global())));
      } catch (IllegalArgumentException | NoSuchElementException absent) {
        // not installed, or not an NVTX library: try the next name
      }
    }
    return Optional.empty();
  }

  /** The library the functions came from. */
  public String library() {
    return library;
  }

  /** Opens a range on this thread; returns its depth (0 = outermost), or {@link #NO_TOOL} without a tool. */
  public int push(String name) {
    MemorySegment text = names.computeIfAbsent(name, n -> Arena.global().allocateFrom(n));
    try {
      return (int) push.invokeExact(text);
    } catch (Throwable e) {
      throw new IllegalStateException("nvtxRangePushA failed", e);
    }
  }

  /** Closes this thread's innermost range; returns the depth it had, or {@link #NO_TOOL} without a tool. */
  public int pop() {
    try {
      return (int) pop.invokeExact();
    } catch (Throwable e) {
      throw new IllegalStateException("nvtxRangePop failed", e);
    }
  }
}
