package dev.mplug.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * The process's C heap, where libtorch's CPU allocator takes tensor memory: how much is in use (glibc's
 * {@code mallinfo2}: allocated arena bytes + mmapped bytes), and returning freed pages to the system
 * ({@code malloc_trim}). The resident set alone cannot tell a leak from memory glibc keeps for reuse after a free;
 * the bytes in use can. Both are no-ops (in use: -1) on a C library without them.
 *
 * <p>The JVM mallocs too (JIT compilation, GC structures, direct buffers: tens of MiB that come and go), so the bytes
 * in use swing with it. Under {@code -XX:NativeMemoryTracking=summary} the JVM counts its own mallocs, and
 * {@link #outsideJvmBytes()} subtracts them: what is left is what native libraries (libtorch, OpenCV) hold.
 */
public final class NativeHeap {
  private static final Linker LINKER = Linker.nativeLinker();
  /** glibc's {@code struct mallinfo2}: ten size_t fields. */
  private static final StructLayout MALLINFO2 = MemoryLayout.structLayout(
      ValueLayout.JAVA_LONG.withName("arena"), ValueLayout.JAVA_LONG.withName("ordblks"),
      ValueLayout.JAVA_LONG.withName("smblks"), ValueLayout.JAVA_LONG.withName("hblks"),
      ValueLayout.JAVA_LONG.withName("hblkhd"), ValueLayout.JAVA_LONG.withName("usmblks"),
      ValueLayout.JAVA_LONG.withName("fsmblks"), ValueLayout.JAVA_LONG.withName("uordblks"),
      ValueLayout.JAVA_LONG.withName("fordblks"), ValueLayout.JAVA_LONG.withName("keepcost"));
  private static final long HBLKHD = MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("hblkhd"));
  private static final long UORDBLKS = MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("uordblks"));
  private static final Optional<MethodHandle> INFO = LINKER.defaultLookup().find("mallinfo2")
      .map(f -> LINKER.downcallHandle(f, FunctionDescriptor.of(MALLINFO2)));
  private static final Optional<MethodHandle> TRIM = LINKER.defaultLookup().find("malloc_trim")
      .map(f -> LINKER.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)));
  private static final Optional<MethodHandle> MALLOPT = LINKER.defaultLookup().find("mallopt")
      .map(f -> LINKER.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
          ValueLayout.JAVA_INT)));
  /** glibc's {@code mallopt} parameters. */
  private static final int M_TRIM_THRESHOLD = -1;
  private static final int M_MMAP_THRESHOLD = -3;
  /** The largest mmap threshold glibc accepts on 64-bit ({@code HEAP_MAX_SIZE / 2}). */
  private static final int MAX_MMAP_THRESHOLD = 32 << 20;
  /** Keep up to this much free memory at the top of the heap instead of giving it back after every free. */
  private static final int TRIM_THRESHOLD = 1 << 30;
  private static volatile boolean tuned;

  /** The total lines of the JVM's native memory summary: "Total: reserved=..KB, committed=..KB" then "malloc: ..KB". */
  private static final Pattern NMT_COMMITTED = Pattern.compile("Total: reserved=\\d+KB, committed=(\\d+)KB");
  private static final Pattern NMT_MALLOC = Pattern.compile("malloc: (\\d+)KB");

  private NativeHeap() {}

  /** Bytes the C heap has handed out and not had back (arena + mmapped), or -1 without {@code mallinfo2}. */
  public static long inUseBytes() {
    return mallinfo(UORDBLKS, HBLKHD);
  }

  /** Bytes in blocks glibc gave their own {@code mmap} (large allocations), or -1 without {@code mallinfo2}. */
  public static long mappedBytes() {
    return mallinfo(HBLKHD);
  }

  /** The sum of the {@code mallinfo2} fields at {@code offsets}, or -1 without {@code mallinfo2}. */
  private static long mallinfo(long... offsets) {
    if (INFO.isEmpty()) return -1;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = (MemorySegment) INFO.get().invokeExact((SegmentAllocator) arena);
      long sum = 0;
      for (long offset : offsets) sum += info.get(ValueLayout.JAVA_LONG, offset);
      return sum;
    } catch (Throwable e) {
      throw new IllegalStateException("mallinfo2 failed", e);
    }
  }

  /**
   * Bytes the JVM itself has malloc'd, from its native memory tracking, or -1 when the JVM was not started with
   * {@code -XX:NativeMemoryTracking=summary} (or {@code detail}).
   */
  public static long jvmMallocBytes() {
    return fromJvmSummary(NMT_MALLOC);
  }

  /**
   * Bytes the JVM has committed for itself (heap, code, metadata, thread stacks, its mallocs), from its native memory
   * tracking, or -1 without it.
   */
  public static long jvmCommittedBytes() {
    return fromJvmSummary(NMT_COMMITTED);
  }

  private static long fromJvmSummary(Pattern kib) {
    try {
      String summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
          new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
      Matcher m = kib.matcher(summary);
      return m.find() ? Long.parseLong(m.group(1)) << 10 : -1;
    } catch (JMException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Bytes of the C heap in use that the JVM did not malloc itself: those of native libraries, libtorch's tensors
   * among them. Read between two readings of the JVM's count that agree (the JVM mallocs on other threads
   * meanwhile). -1 without {@code mallinfo2} or without the JVM's native memory tracking.
   */
  public static long outsideJvmBytes() {
    for (int attempt = 0; ; attempt++) {
      long jvm = jvmMallocBytes();
      long inUse = inUseBytes();
      if (jvm < 0 || inUse < 0) return -1;
      if (jvmMallocBytes() == jvm || attempt == 20) return inUse - jvm;
    }
  }

  /**
   * Sets the C heap up for tensors, once per process: blocks up to 32 MiB come from the heap instead of fresh
   * {@code mmap}s, and freed memory stays mapped (up to 1 GiB at the heap's top) instead of going back to the system
   * after every free. With glibc's defaults a forward pass of a base-size model maps, faults in and unmaps its large
   * activations again on every call until glibc's own threshold has crept up: the first inference calls ran 8x slower
   * than later ones (38 s vs 4 s for a base VQA answer). {@link #trim()} still returns the free pages on demand (the
   * API calls it on close). Off with {@code -Dmplug.malloc.tune=false}; a no-op without glibc's {@code mallopt}.
   *
   * @return whether the settings are in effect
   */
  public static synchronized boolean tuneForTensors() {
    if (tuned) return true;
    if (MALLOPT.isEmpty() || !Boolean.parseBoolean(System.getProperty("mplug.malloc.tune", "true"))) return false;
    try {
      tuned = (int) MALLOPT.get().invokeExact(M_MMAP_THRESHOLD, MAX_MMAP_THRESHOLD) == 1
          & (int) MALLOPT.get().invokeExact(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1;
      return tuned;
    } catch (Throwable e) {
      throw new IllegalStateException("mallopt failed", e);
    }
  }

  /** Returns the C heap's free pages to the system, so that freed tensor memory leaves the resident set. */
  public static void trim() {
    if (TRIM.isEmpty()) return;
    try {
      int ignored = (int) TRIM.get().invokeExact(0L);
    } catch (Throwable e) {
      throw new IllegalStateException("malloc_trim failed", e);
    }
  }
}
