package dev.mplug.train;

import dev.mplug.data.loader.LoaderPosition;

/**
 * A resumable stream of batches: the trainer saves {@link #position()} (as {@code data.epoch} and
 * {@code data.offset} of {@code trainer.json}) and a resumed run {@link #seek}s to it.
 */
public interface Batches<B> extends AutoCloseable {
  B next();

  /** Where the next batch comes from: the data loader's position (epoch, samples delivered in it). */
  LoaderPosition position();

  /** Continues from a saved position; the batches that follow equal those the original run saw. */
  void seek(LoaderPosition position);

  @Override
  default void close() {}
}
