package dev.mplug.data.loader;

/** Deterministic seed derivation: one 64-bit seed per (seed, key...) tuple, well mixed (SplitMix64 finaliser). */
final class Seeds {
  private Seeds() {}

  static long mix(long seed, long... keys) {
    long h = mix64(seed ^ 0x9E3779B97F4A7C15L);
    for (long k : keys) h = mix64(h ^ mix64(k + 0x632BE59BD9B4E019L));
    return h;
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
