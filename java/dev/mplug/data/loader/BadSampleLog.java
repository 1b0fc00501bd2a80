package dev.mplug.data.loader;

import dev.mplug.data.BadSampleException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Counts and reports bad samples on the consumer side, batch by batch in delivery order (so what is reported, and when
 * the run stops, does not depend on thread timing). Each distinct source is reported once; every occurrence counts.
 */
public final class BadSampleLog {
  private final double maxFraction;
  private final int grace;
  private final Consumer<String> reporter;
  private final Set<String> reported = new HashSet<>();
  private long delivered;
  private long bad;

  BadSampleLog(double maxFraction, int grace, Consumer<String> reporter) {
    this.maxFraction = maxFraction;
    this.grace = grace;
    this.reporter = reporter;
  }

  /** Accounts one delivered batch; throws {@link TooManyBadSamplesException} when over the limit. */
  synchronized void account(int size, List<BadSampleException> replaced, boolean epochEnd) {
    delivered += size;
    for (BadSampleException e : replaced) {
      bad++;
      if (reported.add(e.source())) {
        reporter.accept("bad sample " + e.source() + ": " + e.reason() + " (replaced; " + bad + " bad so far)");
      }
    }
    if ((delivered >= grace || epochEnd) && bad > maxFraction * delivered) {
      BadSampleException last = replaced.isEmpty() ? null : replaced.get(replaced.size() - 1);
      throw new TooManyBadSamplesException(String.format("stopping: %d of %d samples (%.1f%%) were bad, more than "
          + "the allowed %.1f%% (maxBadFraction %s)%s", bad, delivered, 100.0 * bad / delivered, 100 * maxFraction,
          maxFraction, last == null ? "" : "; last: " + last.getMessage()));
    }
  }

  /** Bad samples met so far (every occurrence). */
  public synchronized long bad() {
    return bad;
  }

  /** Distinct bad sources reported so far. */
  public synchronized int distinct() {
    return reported.size();
  }

  /** Samples delivered so far. */
  public synchronized long delivered() {
    return delivered;
  }
}
