package dev.mplug.data.text;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * BERT's basic tokenisation, before word pieces: drop control characters (and NUL, U+FFFD), turn every whitespace
 * into a space, put spaces around CJK ideographs, NFC-normalise, split on whitespace, then per word lower-case, strip
 * accents (NFD, drop non-spacing marks) and split off every punctuation character (Unicode P* categories plus the
 * ASCII symbols {@code !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~}) as a word of its own.
 *
 * <p>Matches Hugging Face's {@code BasicTokenizer(do_lower_case=True)} (transformers 4.x), which bert-base-uncased
 * uses. Words in {@code neverSplit} (the special tokens) pass through untouched. One pass over the text with an
 * all-ASCII fast path: no regular expressions, no normalisation of ASCII text.
 */
final class BasicTokenizer {
  /** ASCII punctuation as BERT counts it: every printable non-alphanumeric, non-space character. */
  private static final boolean[] ASCII_PUNCT = new boolean[128];

  static {
    for (int c = 33; c < 127; c++) {
      ASCII_PUNCT[c] = (c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123);
    }
  }

  private final boolean lowerCase;
  private final Set<String> neverSplit;

  BasicTokenizer(boolean lowerCase, Set<String> neverSplit) {
    this.lowerCase = lowerCase;
    this.neverSplit = Set.copyOf(neverSplit);
  }

  /** Appends the basic tokens of {@code text} to {@code out}. */
  void tokenize(String text, List<String> out) {
    StringBuilder clean = new StringBuilder(text.length() + 8);
    boolean ascii = cleanAndSpaceCjk(text, clean);
    String normalized = ascii ? clean.toString() : Normalizer.normalize(clean, Normalizer.Form.NFC);
    int n = normalized.length();
    int start = 0;
    while (start < n) {
      while (start < n && normalized.charAt(start) == ' ') start++;
      if (start >= n) break;
      int end = normalized.indexOf(' ', start);
      if (end < 0) end = n;
      word(normalized.substring(start, end), ascii, out);
      start = end;
    }
  }

  /** One whitespace-delimited word: lower-case, strip accents, split off punctuation. */
  private void word(String word, boolean ascii, List<String> out) {
    if (neverSplit.contains(word)) {
      out.add(word);
      return;
    }
    String w = word;
    boolean wordAscii = ascii || isAscii(w);
    if (lowerCase) {
      w = wordAscii ? lowerAscii(w) : stripAccents(w.toLowerCase(Locale.ROOT));
      wordAscii = wordAscii || isAscii(w);
    }
    splitOnPunctuation(w, wordAscii, out);
  }

  private static void splitOnPunctuation(String w, boolean ascii, List<String> out) {
    int n = w.length();
    int pieceStart = 0;
    int i = 0;
    while (i < n) {
      int cp = ascii ? w.charAt(i) : w.codePointAt(i);
      int width = Character.charCount(cp);
      if (isPunctuation(cp)) {
        if (i > pieceStart) out.add(w.substring(pieceStart, i));
        out.add(w.substring(i, i + width));
        pieceStart = i + width;
      }
      i += width;
    }
    if (pieceStart < n) out.add(pieceStart == 0 ? w : w.substring(pieceStart));
  }

  /**
   * Writes the cleaned text into {@code out}: control characters, NUL and U+FFFD dropped, whitespace (including line
   * and paragraph separators, on which Python's str.split also splits) turned into spaces, CJK ideographs surrounded
   * by spaces. Returns whether the text was all ASCII.
   */
  private static boolean cleanAndSpaceCjk(String text, StringBuilder out) {
    boolean ascii = true;
    int n = text.length();
    for (int i = 0; i < n; ) {
      char c = text.charAt(i);
      if (c < 0x80) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          out.append(' ');
        } else if (c >= 0x20 && c != 0x7f) {
          out.append(c);
        } // else: an ASCII control character (NUL included), dropped
        i++;
        continue;
      }
      ascii = false;
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == 0xFFFD || isControl(cp)) continue;
      int type = Character.getType(cp);
      if (type == Character.SPACE_SEPARATOR || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR) {
        out.append(' ');
      } else if (isCjk(cp)) {
        out.append(' ').appendCodePoint(cp).append(' ');
      } else {
        out.appendCodePoint(cp);
      }
    }
    return ascii;
  }

  /** NFD, then drop non-spacing marks (Unicode category Mn). */
  static String stripAccents(String s) {
    String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
    StringBuilder b = null;
    for (int i = 0; i < nfd.length(); ) {
      int cp = nfd.codePointAt(i);
      int width = Character.charCount(cp);
      if (Character.getType(cp) == Character.NON_SPACING_MARK) {
        if (b == null) b = new StringBuilder(nfd.length()).append(nfd, 0, i);
      } else if (b != null) {
        b.appendCodePoint(cp);
      }
      i += width;
    }
    return b == null ? nfd : b.toString();
  }

  /** BERT's punctuation: the ASCII symbols plus every Unicode P* category. */
  static boolean isPunctuation(int cp) {
    if (cp < 128) return ASCII_PUNCT[cp];
    return switch (Character.getType(cp)) {
      case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
          Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
          Character.OTHER_PUNCTUATION -> true;
      default -> false;
    };
  }

  /** Unicode category C* (control, format, private use, surrogate, unassigned); tab, CR and LF are whitespace. */
  static boolean isControl(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') return false;
    return switch (Character.getType(cp)) {
      case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE, Character.UNASSIGNED ->
          true;
      default -> false;
    };
  }

  /** The CJK Unified Ideographs blocks (and compatibility ideographs) as BERT defines them; not kana or hangul. */
  static boolean isCjk(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF)
        || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F)
        || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF)
        || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) if (s.charAt(i) >= 0x80) return false;
    return true;
  }

  private static String lowerAscii(String s) {
    int i = 0;
    while (i < s.length() && !(s.charAt(i) >= 'A' && s.charAt(i) <= 'Z')) i++;
    if (i == s.length()) return s;
    char[] c = s.toCharArray();
    for (; i < c.length; i++) if (c[i] >= 'A' && c[i] <= 'Z') c[i] += 32;
    return new String(c);
  }
}
