package dev.mplug.model;

/** Validation helpers for the config records: every failure names the config key (as spelled in the file). */
final class ConfigChecks {
  private ConfigChecks() {}

  static void positive(String key, long value) {
    if (value < 1) throw new IllegalArgumentException(key + " must be >= 1, got " + value);
  }

  static void nonNegative(String key, long value) {
    if (value < 0) throw new IllegalArgumentException(key + " must be >= 0, got " + value);
  }

  static void probability(String key, double value) {
    if (!(value >= 0 && value < 1)) throw new IllegalArgumentException(key + " must be in [0, 1), got " + value);
  }

  static void positive(String key, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(key + " must be a positive number, got " + value);
    }
  }

  static void divisible(String key, long value, String byKey, long by) {
    if (value % by != 0) {
      throw new IllegalArgumentException(key + " (" + value + ") must be divisible by " + byKey + " (" + by + ")");
    }
  }

  static void below(String key, long value, String limitKey, long limit) {
    if (value >= limit) {
      throw new IllegalArgumentException(key + " (" + value + ") must be < " + limitKey + " (" + limit + ")");
    }
  }
}
