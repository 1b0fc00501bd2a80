package dev.mplug.data.loader;

import dev.mplug.data.BadSampleException;
import dev.mplug.profile.Range;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Batches from a {@link SampleStore}: a fixed pool of worker threads loads, prepares ({@link SampleFunction}) and
 * collates ({@link Collator}) whole batches, at most {@code prefetch} of them ahead of the consumer, delivered in
 * order. The order of an epoch comes from {@link EpochSampler} (seeded shuffle, rank sharding); every random choice
 * is derived from the seed and the sample's position, so a run resumed from a {@link LoaderPosition} yields the same
 * batches, whatever the thread timing.
 *
 * <p>Bad samples ({@link BadSampleException} from the store or the sample function) are replaced by another index
 * drawn by a seeded rule from the bad index and the attempt number, reported once per source, counted (distinct bad
 * samples and substitutions, {@link BadSampleLog}), and the run stops with {@link TooManyBadSamplesException} when the
 * distinct bad samples exceed {@link LoaderConfig#maxBadFraction()} of the dataset. Any other exception of
 * a worker ends the epoch and is rethrown by {@link Epoch#next()}.
 *
 * <pre>{@code
 * try (var loader = new DataLoader<>(store, prepare, collate, LoaderConfig.of(64))) {
 *   for (int epoch = start.epoch(); epoch < epochs; epoch++) {
 *     LoaderPosition from = epoch == start.epoch() ? start : LoaderPosition.start(epoch);
 *     try (var it = loader.resume(from)) {
 *       while (it.hasNext()) try (Batch b = it.next()) { step(b); save(b.position()); }
 *     }
 *   }
 * }
 * }</pre>
 */
public final class DataLoader<T> implements AutoCloseable {
  private static final AtomicInteger POOLS = new AtomicInteger();

  private final SampleStore store;
  private final SampleFunction<T> function;
  private final Collator<T> collator;
  private final LoaderConfig config;
  private final EpochSampler sampler;
  private final ExecutorService pool;
  private final BadSampleLog badSamples;
  private final Throughput throughput = new Throughput();

  /** A loader reporting bad samples on standard error. */
  public DataLoader(SampleStore store, SampleFunction<T> function, Collator<T> collator, LoaderConfig config) {
    this(store, function, collator, config, message -> System.err.println("mplug data: " + message));
  }

  public DataLoader(SampleStore store, SampleFunction<T> function, Collator<T> collator, LoaderConfig config,
      Consumer<String> reporter) {
    this.store = store;
    this.function = function;
    this.collator = collator;
    this.config = config;
    this.sampler = new EpochSampler(store.size(), config.seed(), config.shuffle(), config.rank(), config.worldSize(),
        false);
    if (samplesPerEpoch() == 0) {
      throw new IllegalArgumentException("dropLast with batch size " + config.batchSize() + " leaves no batch: rank "
          + config.rank() + " has only " + sampler.perRank() + " samples per epoch");
    }
    this.badSamples = new BadSampleLog(config.maxBadFraction(), config.badSampleGrace(), store.size(), reporter);
    this.pool = config.workers() == 0 ? null : Executors.newFixedThreadPool(config.workers(), threads());
  }

  /** Samples this rank delivers per epoch. */
  public int samplesPerEpoch() {
    int per = sampler.perRank();
    return config.dropLast() ? per / config.batchSize() * config.batchSize() : per;
  }

  public int batchesPerEpoch() {
    return (samplesPerEpoch() + config.batchSize() - 1) / config.batchSize();
  }

  public LoaderConfig config() {
    return config;
  }

  /** Bad-sample counters (over all epochs of this loader). */
  public BadSampleLog badSamples() {
    return badSamples;
  }

  /** Samples delivered per second since the loader was created. */
  public Throughput throughput() {
    return throughput;
  }

  /** Epoch {@code epoch} from its start. */
  public Epoch epoch(int epoch) {
    return resume(LoaderPosition.start(epoch));
  }

  /** The rest of {@code position.epoch()} after {@code position.offset()} delivered samples. */
  public Epoch resume(LoaderPosition position) {
    if (position.offset() > samplesPerEpoch()) {
      throw new IllegalArgumentException("offset " + position.offset() + " is past the end of the epoch ("
          + samplesPerEpoch() + " samples per epoch on this rank)");
    }
    return new Epoch(position);
  }

  /** Stops the workers (in-flight work is interrupted) and waits for them. */
  @Override
  public void close() {
    if (pool == null) return;
    pool.shutdownNow();
    try {
      if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("loader workers did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The batches of one epoch, in order; close it to stop its in-flight work early. */
  public final class Epoch implements Iterator<Batch>, AutoCloseable {
    private final int epoch;
    private final int[] order;
    private final int end;
    private final ArrayDeque<Future<Batch>> inFlight = new ArrayDeque<>();
    private int delivered;
    private int submitted;
    private boolean closed;

    private Epoch(LoaderPosition start) {
      this.epoch = start.epoch();
      this.order = sampler.indices(epoch);
      this.end = samplesPerEpoch();
      this.delivered = start.offset();
      this.submitted = start.offset();
    }

    @Override
    public boolean hasNext() {
      return !closed && delivered < end;
    }

    @Override
    public Batch next() {
      if (!hasNext()) throw new NoSuchElementException("epoch " + epoch + " is " + (closed ? "closed" : "finished"));
      Batch batch;
      if (pool == null) {
        int len = Math.min(config.batchSize(), end - submitted);
        batch = loadBatch(epoch, order, submitted, len);
        submitted += len;
      } else {
        fill();
        batch = await(inFlight.removeFirst());
        fill();
      }
      delivered = batch.position().offset();
      try {
        badSamples.account(batch.size(), batch.replaced(), delivered == end);
      } catch (TooManyBadSamplesException e) {
        batch.close();
        close();
        throw e;
      }
      throughput.add(batch.size());
      return batch;
    }

    /** The position after the last delivered batch. */
    public LoaderPosition position() {
      return new LoaderPosition(epoch, delivered);
    }

    private void fill() {
      while (inFlight.size() < config.prefetch() && submitted < end) {
        int start = submitted;
        int len = Math.min(config.batchSize(), end - start);
        inFlight.addLast(pool.submit(() -> loadBatch(epoch, order, start, len)));
        submitted += len;
      }
    }

    private Batch await(Future<Batch> f) {
      try {
        return f.get();
      } catch (ExecutionException e) {
        close();
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException r) throw r;
        if (cause instanceof Error err) throw err;
        throw new IllegalStateException("loader worker failed: " + cause, cause);
      } catch (InterruptedException e) {
        close();
        Thread.currentThread().interrupt();
        throw new CancellationException("interrupted while waiting for batch of epoch " + epoch);
      }
    }

    /** Cancels the batches in flight (freeing those already made) and ends the epoch. */
    @Override
    public void close() {
      closed = true;
      for (Future<Batch> f : inFlight) {
        if (!f.cancel(true) && f.isDone()) {
          try {
            f.get().close();
          } catch (ExecutionException | CancellationException | InterruptedException ignored) {
            // the batch failed or was cancelled: nothing to free
          }
        }
      }
      inFlight.clear();
    }
  }

  /** One batch: positions [start, start + len) of the epoch's order. Runs on a worker thread. */
  private Batch loadBatch(int epoch, int[] order, int start, int len) {
    TorchRuntime.load();
    try (Range r = Range.open("load_batch"); TensorScope scope = TensorScope.open()) {
      List<T> items = new ArrayList<>(len);
      int[] used = new int[len];
      List<BadSampleException> replaced = new ArrayList<>();
      for (int k = 0; k < len; k++) {
        int position = start + k;
        int index = order[position];
        for (int attempt = 0; ; attempt++) {
          try {
            SplittableRandom rng = new SplittableRandom(
                Seeds.mix(config.seed(), epoch, config.rank(), position, attempt));
            items.add(function.apply(store.load(index), rng));
            used[k] = index;
            break;
          } catch (BadSampleException e) {
            replaced.add(e);
            if (attempt + 1 >= config.maxReplacementTries()) {
              throw new TooManyBadSamplesException("no usable sample for position " + position + " of epoch " + epoch
                  + " after " + (attempt + 1) + " tries; last: " + e.getMessage());
            }
            index = replacement(order[position], attempt);
          }
        }
      }
      Batch.Builder b = new Batch.Builder(used, replaced, new LoaderPosition(epoch, start + len));
      collator.collate(items, b);
      return b.build(scope);
    }
  }

  /** The stand-in for bad sample {@code index} at try {@code attempt}: another index, a pure function of both. */
  private int replacement(int index, int attempt) {
    int n = store.size();
    if (n == 1) return index;
    SplittableRandom rng = new SplittableRandom(Seeds.mix(config.seed(), 0x5EED_BADL, index, attempt));
    return (index + 1 + rng.nextInt(n - 1)) % n;
  }

  private static ThreadFactory threads() {
    int pool = POOLS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "mplug-loader-" + pool + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
