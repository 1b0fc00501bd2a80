package dev.mplug.profile;

/**
 * A named interval of work, shown by the profilers that listen ({@link Profiler}): {@code try (Range r =
 * Range.open("backward")) { ... }}. Ranges nest per thread, as the try blocks do; a range closes on the thread that
 * opened it.
 *
 * <p>While nothing listens (no {@code --profile} trace, no Nsight tool attached) {@link #open} reads one flag and
 * returns a shared handle whose {@link #close} does nothing: no allocation, no clock read, no native call. Names
 * should be constants (or strings made once, such as {@code "fusion.layer3"} built with the model), so the caller does
 * not allocate either. Names use dots, not slashes: Nsight Compute's NVTX filters separate nested ranges with
 * {@code /}.
 */
public final class Range implements AutoCloseable {
  /** Handed out while nothing listens. */
  private static final Range IDLE = new Range(false);
  /** Handed out for a range the profilers were told about; closing it ends this thread's innermost range. */
  private static final Range RECORDED = new Range(true);

  private final boolean recorded;

  private Range(boolean recorded) {
    this.recorded = recorded;
  }

  /** Opens the range {@code name} on this thread. */
  public static Range open(String name) {
    if (!Profiler.listening()) return IDLE;
    Profiler.push(name);
    return RECORDED;
  }

  /** Whether this range was handed to a profiler (false while nothing listens). */
  public boolean recorded() {
    return recorded;
  }

  @Override
  public void close() {
    if (recorded) Profiler.pop();
  }
}
