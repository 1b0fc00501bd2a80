package dev.mplug.data.loader;

/** Samples delivered and samples per second since the counter started (thread-safe). */
public final class Throughput {
  private final long start = System.nanoTime();
  private long samples;
  private long batches;

  synchronized void add(int n) {
    samples += n;
    batches++;
  }

  public synchronized long samples() {
    return samples;
  }

  public synchronized long batches() {
    return batches;
  }

  public double seconds() {
    return (System.nanoTime() - start) / 1e9;
  }

  /** Samples per second so far (0 before anything was delivered). */
  public synchronized double samplesPerSecond() {
    double s = seconds();
    return samples == 0 || s <= 0 ? 0 : samples / s;
  }

  @Override
  public String toString() {
    return String.format("%d samples in %.1f s (%.1f samples/s)", samples(), seconds(), samplesPerSecond());
  }
}
