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
import java.util.Optional;

/**
 * The process's C heap, where libtorch's CPU allocator takes tensor memory: how much is in use (glibc's
 * {@code mallinfo2}: allocated arena bytes + mmapped bytes), and returning freed pages to the system
 * ({@code malloc_trim}). The resident set alone cannot tell a leak from memory glibc keeps for reuse after a free;
 * the bytes in use can. Both are no-ops (in use: -1) on a C library without them.
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

  private NativeHeap() {}

  /** Bytes the C heap has handed out and not had back (arena + mmapped), or -1 without {@code mallinfo2}. */
  public static long inUseBytes() {
    if (INFO.isEmpty()) return -1;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = (MemorySegment) INFO.get().invokeExact((SegmentAllocator) arena);
      return info.get(ValueLayout.JAVA_LONG, UORDBLKS) + info.get(ValueLayout.JAVA_LONG, HBLKHD);
    } catch (Throwable e) {
      throw new IllegalStateException("mallinfo2 failed", e);
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
