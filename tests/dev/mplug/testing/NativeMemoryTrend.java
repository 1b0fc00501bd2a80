package dev.mplug.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.NativeHeap;
import java.util.Arrays;

/**
 * Samples of the native memory that libraries outside the JVM hold ({@link NativeHeap#outsideJvmBytes()}), taken
 * while a workload repeats, and the check that it does not grow: the median of the last third of the samples may
 * exceed that of an earlier third by less than a bound. Medians, because one sample can still catch another thread
 * between a malloc and the JVM's count of it.
 */
public final class NativeMemoryTrend {
  private final long[] kib;
  private int taken;

  public NativeMemoryTrend(int samples) {
    kib = new long[samples];
  }

  /** Takes the next sample; fails when the JVM does not track its own mallocs (the pom's test argLine turns it on). */
  public void sample() {
    long bytes = NativeHeap.outsideJvmBytes();
    assertTrue(bytes >= 0, "the native memory outside the JVM cannot be measured: run the JVM with "
        + "-XX:NativeMemoryTracking=summary (the pom's test argLine does), on glibc");
    kib[taken++] = bytes >> 10;
  }

  /** The samples so far, KiB. */
  public long[] kib() {
    return Arrays.copyOf(kib, taken);
  }

  /** KiB by which the median of the last third exceeds that of the third starting at sample {@code from}. */
  public long growthSince(int from) {
    int third = taken / 3;
    return median(taken - third, taken) - median(from, from + third);
  }

  /** Asserts that the last third's median is less than {@code limitKiB} above that of the third from {@code from}. */
  public void assertFlatSince(int from, long limitKiB, String what) {
    long growth = growthSince(from);
    assertTrue(growth < limitKiB, "the native memory outside the JVM rose by " + growth + " KiB over " + what
        + " (median of the last third against samples " + from + "..; KiB by sample: "
        + Arrays.toString(kib()) + ")");
  }

  private long median(int from, int to) {
    long[] s = Arrays.copyOfRange(kib, from, to);
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
