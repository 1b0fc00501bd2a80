package dev.mplug.data.loader;

import dev.mplug.data.BadSampleException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Counts and reports bad samples on the consumer side, batch by batch in delivery order (so what is reported, and when
 * the run stops, does not depend on thread timing). Two counts, kept apart because they answer different questions:
 * <ul>
 *   <li><b>distinct</b> bad samples (sources): how much of the dataset is unusable; each is reported once;
 *   <li><b>substitutions</b>: every time a bad sample was met and a stand-in drawn (a damaged file met in each of 3
 *       epochs is 1 distinct bad sample and 3 substitutions; a stand-in that is bad itself is one more of each).
 * </ul>
 * The run stops when the distinct bad samples exceed {@code maxFraction} of the dataset: a property of the data, the
 * same whichever epoch it is found in (a rate per delivered sample would repeat the same files every epoch). The check
 * waits for {@code grace} delivered samples or the end of an epoch; since the count only grows, that delays the stop
 * but never changes whether it comes. With several ranks each rank counts what it has met itself.
 */
public final class BadSampleLog {
  private final double maxFraction;
  private final int grace;
  private final int datasetSize;
  private final Consumer<String> reporter;
  private final Set<String> distinct = new HashSet<>();
  private long delivered;
  private long substitutions;

  BadSampleLog(double maxFraction, int grace, int datasetSize, Consumer<String> reporter) {
    this.maxFraction = maxFraction;
    this.grace = grace;
    this.datasetSize = datasetSize;
    this.reporter = reporter;
  }

  /** Accounts one delivered batch; throws {@link TooManyBadSamplesException} when over the limit. */
  synchronized void account(int size, List<BadSampleException> replaced, boolean epochEnd) {
    delivered += size;
    for (BadSampleException e : replaced) {
      substitutions++;
      if (distinct.add(e.source())) {
        reporter.accept("bad sample " + e.source() + ": " + e.reason() + " (replaced; " + distinct.size()
            + " distinct bad so far)");
      }
    }
    if ((delivered >= grace || epochEnd) && distinct.size() > maxFraction * datasetSize) {
      BadSampleException last = replaced.isEmpty() ? null : replaced.get(replaced.size() - 1);
      throw new TooManyBadSamplesException(String.format(Locale.ROOT, "stopping: %d distinct samples of the %d in the "
          + "dataset (%.1f%%) were bad, more than the allowed %.1f%% (maxBadFraction %s); %d substitutions in %d "
          + "delivered samples%s", distinct.size(), datasetSize, 100.0 * distinct.size() / datasetSize,
          100 * maxFraction, maxFraction, substitutions, delivered, last == null ? "" : "; last: " + last.getMessage()));
    }
  }

  /** Distinct bad samples (sources) met so far. */
  public synchronized int distinct() {
    return distinct.size();
  }

  /** Bad samples replaced by a stand-in so far: every occurrence, over all epochs. */
  public synchronized long substitutions() {
    return substitutions;
  }

  /** Samples delivered so far. */
  public synchronized long delivered() {
    return delivered;
  }
}
