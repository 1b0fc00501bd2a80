package dev.mplug.testing;

import dev.mplug.torch.TorchRuntime;

/** Fresh random seeds for tests, logged so a failure can be replayed with -Dmplug.test.seed=N. */
public final class Seeds {
  private Seeds() {}

  /** Seeds libtorch with a fresh (or the requested) seed and prints it; returns the seed. */
  public static long fresh(String testName) {
    String fixed = System.getProperty("mplug.test.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime() & 0xffff_ffffL;
    System.out.println("[seed] " + testName + " seed=" + seed + " (replay with -Dmplug.test.seed=" + seed + ")");
    TorchRuntime.seed(seed);
    return seed;
  }
}
