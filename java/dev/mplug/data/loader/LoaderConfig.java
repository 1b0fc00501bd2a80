package dev.mplug.data.loader;

/**
 * How a {@link DataLoader} batches, orders, shards and guards its samples. Build it by name: {@link #of} gives the
 * documented defaults and the {@code with...} methods change them, e.g.
 * {@code LoaderConfig.of(32).withShuffle(true, seed).withWorkers(4, 8)}; every step is validated.
 *
 * @param batchSize samples per batch (per rank)
 * @param shuffle reshuffle every epoch (seeded by seed and epoch) instead of the dataset order
 * @param seed the seed of the shuffle, the per-sample random generators and the bad-sample replacement
 * @param rank this process's rank in [0, worldSize)
 * @param worldSize number of ranks the dataset is sharded over
 * @param dropLast drop the last incomplete batch of an epoch
 * @param workers worker threads that load, augment and collate (0 = in the calling thread)
 * @param prefetch batches in flight ahead of the consumer (the bound of the queue)
 * @param maxBadFraction stop when more than this fraction of the dataset's samples were found bad (distinct samples;
 *     see {@link BadSampleLog})
 * @param badSampleGrace samples delivered before the fraction is checked (it is always checked at epoch end)
 * @param maxReplacementTries replacements tried for one bad sample before giving up
 */
public record LoaderConfig(int batchSize, boolean shuffle, long seed, int rank, int worldSize, boolean dropLast,
    int workers, int prefetch, double maxBadFraction, int badSampleGrace, int maxReplacementTries) {
  public LoaderConfig {
    positive("batchSize", batchSize);
    positive("worldSize", worldSize);
    positive("prefetch", prefetch);
    positive("maxReplacementTries", maxReplacementTries);
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank must be in [0, worldSize=" + worldSize + "), got " + rank);
    }
    if (workers < 0) throw new IllegalArgumentException("workers must be >= 0, got " + workers);
    if (!(maxBadFraction >= 0 && maxBadFraction <= 1)) {
      throw new IllegalArgumentException("maxBadFraction must be in [0, 1], got " + maxBadFraction);
    }
    if (badSampleGrace < 0) throw new IllegalArgumentException("badSampleGrace must be >= 0, got " + badSampleGrace);
  }

  /**
   * Defaults: shuffled, seed 0, a single rank, keep the last batch, 2 workers, 4 batches in flight, stop above 1% bad
   * samples once 1000 samples were delivered, 16 replacement tries.
   */
  public static LoaderConfig of(int batchSize) {
    return new LoaderConfig(batchSize, true, 0, 0, 1, false, 2, 4, 0.01, 1000, 16);
  }

  public LoaderConfig withShuffle(boolean shuffle, long seed) {
    return new LoaderConfig(batchSize, shuffle, seed, rank, worldSize, dropLast, workers, prefetch, maxBadFraction,
        badSampleGrace, maxReplacementTries);
  }

  public LoaderConfig withRank(int rank, int worldSize) {
    return new LoaderConfig(batchSize, shuffle, seed, rank, worldSize, dropLast, workers, prefetch, maxBadFraction,
        badSampleGrace, maxReplacementTries);
  }

  public LoaderConfig withDropLast(boolean dropLast) {
    return new LoaderConfig(batchSize, shuffle, seed, rank, worldSize, dropLast, workers, prefetch, maxBadFraction,
        badSampleGrace, maxReplacementTries);
  }

  public LoaderConfig withWorkers(int workers, int prefetch) {
    return new LoaderConfig(batchSize, shuffle, seed, rank, worldSize, dropLast, workers, prefetch, maxBadFraction,
        badSampleGrace, maxReplacementTries);
  }

  public LoaderConfig withBadSamples(double maxBadFraction, int badSampleGrace) {
    return new LoaderConfig(batchSize, shuffle, seed, rank, worldSize, dropLast, workers, prefetch, maxBadFraction,
        badSampleGrace, maxReplacementTries);
  }

  public LoaderConfig withReplacementTries(int maxReplacementTries) {
    return new LoaderConfig(batchSize, shuffle, seed, rank, worldSize, dropLast, workers, prefetch, maxBadFraction,
        badSampleGrace, maxReplacementTries);
  }

  private static void positive(String name, int v) {
    if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
  }
}
