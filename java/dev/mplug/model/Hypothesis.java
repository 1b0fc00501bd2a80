package dev.mplug.model;

import java.util.Arrays;

/**
 * A generated sequence: {@code ids} start with the start token ([CLS]) and end with the end token ([SEP]) when the
 * hypothesis finished by it; {@code score} = sum of its tokens' log-probabilities / ((5 + n) / 6)^alpha with n the
 * number of generated tokens ({@code ids.length - 1}).
 */
public record Hypothesis(long[] ids, float score) {
  public Hypothesis {
    ids = ids.clone();
  }

  @Override
  public long[] ids() {
    return ids.clone();
  }

  public int length() {
    return ids.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Hypothesis h && Arrays.equals(ids, h.ids) && Float.compare(score, h.score) == 0;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(ids) + Float.hashCode(score);
  }

  @Override
  public String toString() {
    return Arrays.toString(ids) + " score " + score;
  }
}
