package dev.mplug.data.text;

import java.util.Locale;

/**
 * The official mPLUG / ALBEF text clean-up applied before tokenisation ({@code pre_caption} and {@code pre_question}
 * of the release's dataset utilities).
 *
 * <p>Both lower-case, delete {@code ,.'!?"()*#:;~} and turn '-' and '/' into spaces, then keep at most
 * {@code maxWords} space-separated words. Captions also turn {@code <person>} into "person", collapse runs of two or
 * more whitespace characters into one space and trim; questions only drop trailing spaces (runs of spaces stay, and
 * count as empty words, as in the official code).
 */
public final class TextCleaning {
  /** Words kept by the official pretraining and captioning runs. */
  public static final int CAPTION_MAX_WORDS = 30;

  private TextCleaning() {}

  /** The official {@code pre_caption(caption, max_words)}. */
  public static String preCaption(String caption, int maxWords) {
    String s = stripPunctuation(caption).replace("<person>", "person");
    s = collapseWhitespaceRuns(s);
    int end = s.length();
    while (end > 0 && s.charAt(end - 1) == '\n') end--;            // rstrip('\n')
    int start = 0;
    while (start < end && s.charAt(start) == ' ') start++;          // strip(' ')
    while (end > start && s.charAt(end - 1) == ' ') end--;
    return firstWords(s.substring(start, end), maxWords);
  }

  /** The official {@code pre_question(question, max_ques_words)}. */
  public static String preQuestion(String question, int maxWords) {
    String s = stripPunctuation(question);
    int end = s.length();
    while (end > 0 && s.charAt(end - 1) == ' ') end--;              // rstrip(' ')
    return firstWords(s.substring(0, end), maxWords);
  }

  /** Lower-case, delete {@code ,.'!?"()*#:;~}, '-' and '/' to spaces: one pass, no regular expression. */
  private static String stripPunctuation(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    StringBuilder out = new StringBuilder(lower.length());
    for (int i = 0; i < lower.length(); i++) {
      char c = lower.charAt(i);
      switch (c) {
        case ',', '.', '\'', '!', '?', '"', '(', ')', '*', '#', ':', ';', '~' -> { }
        case '-', '/' -> out.append(' ');
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** Python's {@code re.sub(r"\s{2,}", " ", s)}: a run of two or more whitespace characters becomes one space. */
  private static String collapseWhitespaceRuns(String s) {
    StringBuilder out = new StringBuilder(s.length());
    int i = 0;
    while (i < s.length()) {
      int j = i;
      while (j < s.length() && isPythonSpace(s.charAt(j))) j++;
      if (j - i >= 2) {
        out.append(' ');
        i = j;
      } else {
        out.append(s.charAt(i));
        i++;
      }
    }
    return out.toString();
  }

  /** Keeps the first {@code maxWords} words of {@code s.split(' ')} (empty words count, as in Python). */
  private static String firstWords(String s, int maxWords) {
    if (maxWords < 1) throw new IllegalArgumentException("maxWords must be >= 1, got " + maxWords);
    int words = 1;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == ' ' && ++words > maxWords) return s.substring(0, i);
    }
    return s;
  }

  /** Python's str.isspace() for one UTF-16 unit (every whitespace code point is in the BMP). */
  static boolean isPythonSpace(char c) {
    return switch (c) {
      case ' ', '\t', '\n', '\u000b', '\f', '\r', '\u001c', '\u001d', '\u001e', '\u001f', '\u0085', '\u00a0',
          '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000' -> true;
      default -> c >= '\u2000' && c <= '\u200a';
    };
  }
}
