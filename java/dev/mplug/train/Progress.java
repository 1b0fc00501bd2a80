package dev.mplug.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress for a person: on a terminal a one-line bar (step, loss, samples/s, ETA) redrawn in place;
 * otherwise (logs, CI) a plain line every {@code logEvery} steps.
 */
public final class Progress {
  private final PrintStream out;
  private final boolean terminal;
  private final long totalSteps;
  private final long logEvery;
  private final long startNanos = System.nanoTime();
  private long firstStep = -1;

  public Progress(PrintStream out, boolean terminal, long totalSteps, long logEvery) {
    this.out = out;
    this.terminal = terminal;
    this.totalSteps = totalSteps;
    this.logEvery = logEvery;
  }

  /** Detects a terminal on standard output (System.console().isTerminal(), Java 22+). */
  public static Progress forStdout(long totalSteps, long logEvery) {
    var console = System.console();
    return new Progress(System.out, console != null && console.isTerminal(), totalSteps, logEvery);
  }

  /** Reports step {@code step} (0-based, completed) with its loss and throughput. */
  public void update(long step, double loss, double samplesPerSecond) {
    if (firstStep < 0) firstStep = step;
    long done = step + 1;
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    long stepsHere = done - firstStep;
    double eta = stepsHere > 0 ? elapsed / stepsHere * (totalSteps - done) : 0;
    if (terminal) {
      int width = 30;
      int filled = (int) (width * done / Math.max(1, totalSteps));
      out.printf(Locale.ROOT, "\r[%s%s] %d/%d loss %.4f %.1f samples/s ETA %s   ", "=".repeat(filled),
          " ".repeat(width - filled), done, totalSteps, loss, samplesPerSecond, time(eta));
      if (done == totalSteps) out.println();
      out.flush();
    } else if (done % logEvery == 0 || done == totalSteps) {
      out.println(line(done, loss, samplesPerSecond, eta));
    }
  }

  String line(long done, double loss, double samplesPerSecond, double eta) {
    return String.format(Locale.ROOT, "step %d/%d loss %.4f %.1f samples/s eta %s", done, totalSteps, loss,
        samplesPerSecond, time(eta));
  }

  static String time(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
  }

  /** A message that must not tear the bar. */
  public void message(String text) {
    if (terminal) out.print("\r");
    out.println(text);
  }
}
