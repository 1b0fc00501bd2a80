package dev.mplug.data.text;

import java.util.HashMap;
import java.util.Map;

/**
 * Greedy longest-match-first word pieces: the longest vocabulary entry that starts the word, then the longest
 * {@code ##}-prefixed entry that continues it, and so on. A word that cannot be covered completely, or that is longer
 * than {@code maxCharsPerWord} code points, becomes a single [UNK] (never a partial match).
 *
 * <p>Continuation pieces are kept in their own map without the {@code ##} prefix, so a lookup costs one substring and
 * one hash probe; the whole word is tried first and is found at once for most caption words.
 */
final class WordPiece {
  private final Map<String, Integer> starts;
  private final Map<String, Integer> continuations;
  private final int unk;
  private final int maxCharsPerWord;

  WordPiece(Vocabulary vocab, int maxCharsPerWord) {
    this.unk = vocab.unkId();
    this.maxCharsPerWord = maxCharsPerWord;
    this.starts = new HashMap<>(vocab.ids().size() * 2);
    this.continuations = new HashMap<>(vocab.ids().size());
    for (Map.Entry<String, Integer> e : vocab.ids().entrySet()) {
      starts.put(e.getKey(), e.getValue());
      if (e.getKey().startsWith("##")) continuations.put(e.getKey().substring(2), e.getValue());
    }
  }

  /** Appends the ids of the pieces of one basic token to {@code out}. */
  void encode(String word, IntList out) {
    int n = word.length();
    boolean surrogates = false;
    for (int i = 0; i < n && !surrogates; i++) surrogates = Character.isSurrogate(word.charAt(i));
    int[] bounds = surrogates ? codePointBounds(word) : null;   // char offset of each code point, plus the end
    int chars = surrogates ? bounds.length - 1 : n;
    if (chars > maxCharsPerWord) {
      out.add(unk);
      return;
    }
    int mark = out.size();
    int start = 0;                                              // in code points
    while (start < chars) {
      int end = chars;
      int id = -1;
      while (start < end) {
        int from = surrogates ? bounds[start] : start;
        int to = surrogates ? bounds[end] : end;
        Integer hit = start == 0 ? starts.get(from == 0 && to == n ? word : word.substring(from, to))
            : continuations.get(word.substring(from, to));
        if (hit != null) {
          id = hit;
          break;
        }
        end--;
      }
      if (id < 0) {                                             // no piece fits: the whole word is unknown
        out.truncate(mark);
        out.add(unk);
        return;
      }
      out.add(id);
      start = end;
    }
  }

  private static int[] codePointBounds(String word) {
    int[] bounds = new int[word.codePointCount(0, word.length()) + 1];
    int k = 0;
    for (int i = 0; i < word.length(); i += Character.charCount(word.codePointAt(i))) bounds[k++] = i;
    bounds[k] = word.length();
    return bounds;
  }
}
