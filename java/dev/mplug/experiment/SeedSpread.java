package dev.mplug.experiment;

import java.util.Arrays;
import java.util.Locale;

/**
 * One figure over the seeds of a variant: its mean, its spread (the sample standard deviation, n - 1 in the
 * denominator, undefined for one seed) and its range, so that a difference between variants can be read against the
 * noise between seeds.
 */
public record SeedSpread(double mean, double std, double min, double max, int n) {
  /** The spread of {@code values} (at least one). */
  public static SeedSpread of(double... values) {
    if (values.length == 0) throw new IllegalArgumentException("a spread needs at least one value");
    double mean = Arrays.stream(values).average().orElseThrow();
    double squares = Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum();
    double std = values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : Double.NaN;
    return new SeedSpread(mean, std, Arrays.stream(values).min().orElseThrow(),
        Arrays.stream(values).max().orElseThrow(), values.length);
  }

  /** "41.3 ± 2.1 (38.9-43.0)" with {@code decimals} digits; one seed: the value alone. */
  public String format(int decimals) {
    String f = "%." + decimals + "f";
    if (n == 1) return String.format(Locale.ROOT, f, mean);
    return String.format(Locale.ROOT, f + " ± " + f + " (" + f + "-" + f + ")", mean, std, min, max);
  }
}
