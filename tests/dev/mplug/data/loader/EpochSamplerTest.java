package dev.mplug.data.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EpochSamplerTest {
  @Test
  void sequentialShardsLikeDistributedSamplerWithPadding() {
    // 10 samples over 3 ranks: padded to 12 by repeating indices 0 and 1, then every 3rd index from the rank
    assertArrayEquals(new int[] {0, 3, 6, 9}, new EpochSampler(10, 0, false, 0, 3, false).indices(0));
    assertArrayEquals(new int[] {1, 4, 7, 0}, new EpochSampler(10, 0, false, 1, 3, false).indices(0));
    assertArrayEquals(new int[] {2, 5, 8, 1}, new EpochSampler(10, 0, false, 2, 3, false).indices(0));
    // dropTail cuts to 9
    assertArrayEquals(new int[] {1, 4, 7}, new EpochSampler(10, 0, false, 1, 3, true).indices(0));
  }

  @Test
  void shuffleIsSeededPerEpochAndShardsCoverTheDataset() {
    int n = 101;
    int world = 4;
    int[] e3 = new EpochSampler(n, 42, true, 0, 1, false).indices(3);
    assertArrayEquals(e3, new EpochSampler(n, 42, true, 0, 1, false).indices(3), "same seed and epoch, same order");
    assertFalse(Arrays.equals(e3, new EpochSampler(n, 42, true, 0, 1, false).indices(4)), "another epoch");
    assertFalse(Arrays.equals(e3, new EpochSampler(n, 43, true, 0, 1, false).indices(3)), "another seed");
    int[] sorted = e3.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < n; i++) assertEquals(i, sorted[i], "a permutation");

    Map<Integer, Integer> seen = new HashMap<>();
    for (int r = 0; r < world; r++) {
      int[] shard = new EpochSampler(n, 42, true, r, world, false).indices(3);
      assertEquals(26, shard.length, "equal lengths: ceil(101 / 4)");
      for (int i : shard) seen.merge(i, 1, Integer::sum);
      // the rank's shard is the rank-strided slice of the same global permutation
      for (int k = 0; k < shard.length; k++) assertEquals(e3[(r + k * world) % n], shard[k]);
    }
    assertEquals(n, seen.size(), "every sample is covered");
    assertEquals(3, seen.values().stream().filter(c -> c == 2).count(), "3 padding repeats, no other overlap");
  }

  @Test
  void invalidSettingsNameTheProblem() {
    assertThrows(IllegalArgumentException.class, () -> new EpochSampler(10, 0, true, 3, 3, false));
    assertThrows(IllegalArgumentException.class, () -> new EpochSampler(0, 0, true, 0, 1, false));
    assertThrows(IllegalArgumentException.class, () -> new EpochSampler(2, 0, true, 0, 3, true));
  }
}
