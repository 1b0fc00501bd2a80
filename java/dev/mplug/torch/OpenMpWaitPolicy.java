package dev.mplug.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * How libtorch's OpenMP threads wait between parallel regions. By default GNU OpenMP keeps its idle threads spinning
 * for a while after each region; libtorch runs its GEMMs in OpenBLAS's own thread pool between those regions, so the
 * spinning threads take the cores the GEMM threads need. Measured here (2 cores, 2 intra-op and 2 BLAS threads): a
 * demo pretraining step 4.77 s with spinning vs 0.43 s with passive waits; a base-size caption 20.9 s vs 3.1 s.
 *
 * <p>{@link #passiveUnlessSet()} sets {@code OMP_WAIT_POLICY=PASSIVE} in the process environment before libtorch (and
 * with it libgomp, which reads the variable once when it loads) is loaded, unless the user set the variable.
 */
public final class OpenMpWaitPolicy {
  public static final String VARIABLE = "OMP_WAIT_POLICY";
  private static final Linker LINKER = Linker.nativeLinker();
  private static final Optional<MethodHandle> SETENV = LINKER.defaultLookup().find("setenv")
      .map(f -> LINKER.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
          ValueLayout.ADDRESS, ValueLayout.JAVA_INT)));
  private static final Optional<MethodHandle> GETENV = LINKER.defaultLookup().find("getenv")
      .map(f -> LINKER.downcallHandle(f, FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS)));

  private OpenMpWaitPolicy() {}

  /** Sets {@code OMP_WAIT_POLICY=PASSIVE} unless the environment has a value; call before libtorch loads. */
  public static void passiveUnlessSet() {
    if (SETENV.isEmpty()) return;
    try (Arena arena = Arena.ofConfined()) {
      int ignored = (int) SETENV.get().invokeExact(arena.allocateFrom(VARIABLE), arena.allocateFrom("PASSIVE"), 0);
    } catch (Throwable e) {
      throw new IllegalStateException("setenv failed", e);
    }
  }

  /** The variable as the C library sees it now (the JVM's {@code System.getenv} keeps its start-up copy). */
  public static Optional<String> current() {
    if (GETENV.isEmpty()) return Optional.empty();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment value = (MemorySegment) GETENV.get().invokeExact(arena.allocateFrom(VARIABLE));
      return value.equals(MemorySegment.NULL) ? Optional.empty()
          : Optional.of(value.reinterpret(Long.MAX_VALUE).getString(0));
    } catch (Throwable e) {
      throw new IllegalStateException("getenv failed", e);
    }
  }
}
