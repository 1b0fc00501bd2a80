package dev.mplug.data.loader;

import java.util.SplittableRandom;

/**
 * The dataset indices one rank visits in one epoch, like PyTorch's {@code DistributedSampler}: a permutation seeded by
 * (seed, epoch) (or the identity without shuffling), padded by repeating its start until it divides evenly by the
 * world size (or cut down to a multiple with {@code dropTail}), then every world-size-th index from {@code rank}.
 * Ranks get disjoint (up to the padding), equally long shards that together cover the dataset; the same seed and
 * epoch always give the same order, on every rank.
 */
public record EpochSampler(int size, long seed, boolean shuffle, int rank, int worldSize, boolean dropTail) {
  public EpochSampler {
    if (size < 1) throw new IllegalArgumentException("dataset size must be >= 1, got " + size);
    if (worldSize < 1) throw new IllegalArgumentException("worldSize must be >= 1, got " + worldSize);
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank must be in [0, " + worldSize + "), got " + rank);
    }
    if (dropTail && size < worldSize) {
      throw new IllegalArgumentException("dropTail leaves no sample per rank: size " + size + " < worldSize "
          + worldSize);
    }
  }

  /** Samples per rank per epoch. */
  public int perRank() {
    return dropTail ? size / worldSize : (size + worldSize - 1) / worldSize;
  }

  /** This rank's dataset indices for {@code epoch}, in visiting order. */
  public int[] indices(int epoch) {
    int[] order = new int[size];
    for (int i = 0; i < size; i++) order[i] = i;
    if (shuffle) {
      SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, epoch));
      for (int i = size - 1; i > 0; i--) {           // Fisher-Yates
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    int per = perRank();
    int[] mine = new int[per];
    for (int k = 0; k < per; k++) mine[k] = order[(rank + k * worldSize) % size];   // % size: the padding wraps
    return mine;
  }
}
