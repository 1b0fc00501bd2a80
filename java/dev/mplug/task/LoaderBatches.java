package dev.mplug.task;

import dev.mplug.data.loader.Batch;
import dev.mplug.data.loader.DataLoader;
import dev.mplug.data.loader.Example;
import dev.mplug.data.loader.LoaderConfig;
import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.train.Batches;
import java.util.function.Function;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * A training stream over a data loader: endless over epochs, resumable at any (epoch, offset). Each loader batch is
 * turned into the task's batch by {@code convert}, which must copy what it keeps ({@code tensor.clone()}): the
 * loader's batch (and its worker-side memory) is released as soon as the conversion returns.
 */
public final class LoaderBatches<B> implements Batches<B> {
  private final DataLoader<Example<Mat>> loader;
  private final Function<Batch, B> convert;
  private DataLoader<Example<Mat>>.Epoch current;
  private int epoch;

  /** @param what the config key of the data, for the error when it holds less than one batch */
  public LoaderBatches(DataLoader<Example<Mat>> loader, Function<Batch, B> convert, String what) {
    this.loader = loader;
    this.convert = convert;
    if (loader.batchesPerEpoch() == 0) {
      loader.close();
      throw new IllegalArgumentException(what + " holds " + loader.samplesPerEpoch() + " samples, fewer than one "
          + "batch on this rank");
    }
  }

  /**
   * The loader config of a training stream: shuffled per epoch from {@code seed}, this rank's share, whole batches
   * only, {@code workers} threads with twice as many batches in flight (at least 2), and the run stopping when more
   * than {@code maxBadFraction} of the dataset is unusable (checked after the first 100 samples and at each epoch's
   * end).
   */
  public static LoaderConfig trainingConfig(int batchSize, int workers, double maxBadFraction, long seed, int rank,
      int worldSize) {
    return LoaderConfig.of(batchSize).withShuffle(true, seed).withRank(rank, worldSize).withDropLast(true)
        .withWorkers(workers, Math.max(2, workers * 2)).withBadSamples(maxBadFraction, 100);
  }

  public DataLoader<Example<Mat>> loader() {
    return loader;
  }

  @Override
  public B next() {
    while (current == null || !current.hasNext()) {
      if (current != null) {
        current.close();
        epoch++;
      }
      current = loader.epoch(epoch);
    }
    try (Batch b = current.next()) {
      return convert.apply(b);
    }
  }

  @Override
  public LoaderPosition position() {
    return current == null ? LoaderPosition.start(epoch) : current.position();
  }

  @Override
  public void seek(LoaderPosition position) {
    if (current != null) current.close();
    epoch = position.epoch();
    current = loader.resume(position);
  }

  @Override
  public void close() {
    if (current != null) current.close();
    loader.close();
  }
}
