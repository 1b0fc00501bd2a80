package dev.mplug.data.loader;

/**
 * Where a loader stands: {@code offset} samples of epoch {@code epoch} have been delivered on this rank. Saved with a
 * checkpoint and passed back to {@link DataLoader#resume} it reproduces the remaining batches of the epoch exactly.
 * The one position type of the code base: the trainer saves and restores its batch streams by it too (a stream that
 * is not a {@link DataLoader} counts {@code offset} in its own unit, e.g. batches).
 */
public record LoaderPosition(int epoch, int offset) {
  public LoaderPosition {
    if (epoch < 0) throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
    if (offset < 0) throw new IllegalArgumentException("offset must be >= 0, got " + offset);
  }

  public static LoaderPosition start(int epoch) {
    return new LoaderPosition(epoch, 0);
  }
}
