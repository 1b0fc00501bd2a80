package dev.mplug.profile;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** While nothing listens, a range costs no allocation. */
class RangeTest {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @Test
  void whileNothingListensOpeningAndClosingAllocatesNothing() {
    assertFalse(Range.open("idle").recorded(), "no trace and no Nsight tool in the test JVM");
    assertSame(Range.open("a"), Range.open("b"), "one shared handle");
    for (int i = 0; i < 20_000; i++) openAndClose();   // interpreted and compiled
    long before = THREADS.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < 1_000_000; i++) openAndClose();
    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
    // one object per range would be >= 16 MB here; the measurement itself may allocate a few hundred bytes
    assertTrue(allocated < 4096, allocated + " bytes allocated by a million idle ranges");
  }

  private static void openAndClose() {
    try (Range outer = Range.open("step"); Range inner = Range.open("forward")) {
      assertFalse(inner.recorded());
    }
  }
}
