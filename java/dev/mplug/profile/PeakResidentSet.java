package dev.mplug.profile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The process's peak resident set ({@code VmHWM} in {@code /proc/self/status}): the most physical memory it has held
 * at once, native (libtorch's tensors on the C heap, OpenCV, thread stacks) and the JVM's (heap, code) together.
 * Linux lets a process reset the mark to its current resident set ({@code 5} written to
 * {@code /proc/self/clear_refs}, Linux 4.0+), so the peak of one training step is read by resetting at the step's
 * start and reading at its end. Elsewhere (another OS, a kernel or sandbox that refuses) the mark is the peak since
 * the process started, and {@link #reset()} says so.
 */
public final class PeakResidentSet {
  private static final Path STATUS = Path.of("/proc/self/status");
  private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");
  private static final Pattern HIGH_WATER_MARK = Pattern.compile("VmHWM:\\s+(\\d+) kB");

  private PeakResidentSet() {}

  /** The peak resident set in bytes since the process started or the last {@link #reset()}; -1 where unknown. */
  public static long bytes() {
    try {
      Matcher m = HIGH_WATER_MARK.matcher(Files.readString(STATUS));
      return m.find() ? Long.parseLong(m.group(1)) << 10 : -1;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Lowers the peak to the current resident set; true when the kernel did, false when it cannot be reset here (then
   * {@link #bytes()} keeps the peak since the process started).
   */
  public static boolean reset() {
    try {
      Files.writeString(CLEAR_REFS, "5");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
