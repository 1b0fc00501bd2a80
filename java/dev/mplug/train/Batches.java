package dev.mplug.train;

/** A resumable stream of batches: the trainer saves {@link #position()} and a resumed run {@link #seek}s to it. */
public interface Batches<B> extends AutoCloseable {
  B next();

  /** Where the next batch comes from (e.g. epoch and offset). */
  Position position();

  /** Continues from a saved position; the batches that follow equal those the original run saw. */
  void seek(Position position);

  /** (epoch, batches consumed in that epoch). */
  record Position(long epoch, long offset) {}

  @Override
  default void close() {}
}
