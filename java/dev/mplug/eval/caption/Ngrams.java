package dev.mplug.eval.caption;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Words and n-gram counts of a tokenised caption, the way coco-caption's {@code precook} makes them for BLEU and
 * CIDEr: words are what Python's {@code str.split()} returns (runs of Unicode whitespace, no empty words), n-grams of
 * 1..n words are counted per length, in order of first occurrence.
 */
final class Ngrams {
  private Ngrams() {}

  /** Python's {@code str.split()} with no argument: split at runs of whitespace, leading/trailing runs dropped. */
  static List<String> words(String s) {
    List<String> words = new ArrayList<>();
    int start = -1;
    for (int i = 0; i < s.length(); i++) {
      if (isPythonSpace(s.charAt(i))) {
        if (start >= 0) words.add(s.substring(start, i));
        start = -1;
      } else if (start < 0) {
        start = i;
      }
    }
    if (start >= 0) words.add(s.substring(start));
    return words;
  }

  /**
   * Counts of the 1..n-grams of {@code words}: element k-1 maps each k-gram (its words joined by one space, which no
   * word contains) to its count.
   */
  static List<Map<String, Integer>> counts(List<String> words, int n) {
    List<Map<String, Integer>> counts = new ArrayList<>(n);
    for (int k = 1; k <= n; k++) {
      Map<String, Integer> kgrams = new LinkedHashMap<>();
      for (int i = 0; i + k <= words.size(); i++) {
        kgrams.merge(String.join(" ", words.subList(i, i + k)), 1, Integer::sum);
      }
      counts.add(kgrams);
    }
    return counts;
  }

  /** The characters CPython's {@code str.isspace()} accepts (and {@code str.split()} splits at). */
  private static boolean isPythonSpace(char c) {
    return (c >= '\t' && c <= '\r') || (c >= '\u001C' && c <= ' ') || c == '\u0085' || c == '\u00A0'
        || c == '\u1680' || (c >= '\u2000' && c <= '\u200A') || c == '\u2028' || c == '\u2029' || c == '\u202F'
        || c == '\u205F' || c == '\u3000';
  }
}
