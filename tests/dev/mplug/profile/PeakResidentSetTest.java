package dev.mplug.profile;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The peak resident set follows native memory and, reset, forgets an earlier peak. */
class PeakResidentSetTest {
  private static final long MIB = 1 << 20;

  @Test
  void aNativeAllocationRaisesThePeakAndAResetLowersItAgain() {
    assumeTrue(PeakResidentSet.bytes() > 0, "no /proc/self/status (not Linux)");
    assumeTrue(PeakResidentSet.reset(), "this kernel does not let a process reset its peak");
    long base = PeakResidentSet.bytes();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment block = arena.allocate(256 * MIB);
      block.fill((byte) 1);   // touch every page: resident
    }
    long peak = PeakResidentSet.bytes();
    assertTrue(peak >= base + 250 * MIB, "peak " + peak / MIB + " MiB after 256 MiB on top of " + base / MIB);
    assertTrue(PeakResidentSet.reset());
    long after = PeakResidentSet.bytes();
    assertTrue(after <= peak - 200 * MIB, "after the free and a reset: " + after / MIB + " MiB, peak was "
        + peak / MIB);
  }
}
