package dev.mplug.eval.vqa;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the official VQA evaluation ({@code vqaEval.py} of GT-Vision-Lab/VQA) normalises an answer before comparing it,
 * reproduced with its quirks, because VQA accuracy is only comparable when every answer goes through exactly these
 * steps:
 *
 * <ol>
 *   <li>{@link #clean}: newlines and tabs become spaces, then surrounding whitespace goes (the reference does this to
 *       every answer);
 *   <li>{@link #processPunctuation}: each of {@code ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? !} is DELETED when the
 *       answer has that character next to a space, or has a digit-comma-digit anywhere, and is otherwise REPLACED BY
 *       A SPACE: {@code "yes/no"} becomes {@code "yes no"} but {@code "yes/ no"} becomes {@code "yes no"} by deletion,
 *       and {@code "1,000"} becomes {@code "1000"}. The test looks at the answer as given, not as already edited.
 *       Then each period not followed by a digit is deleted ({@code "yes."} to {@code "yes"}, {@code "2.5"} kept); the
 *       reference passes {@code re.UNICODE} (32) where {@code re.sub} takes its count, so at most the first 32 go.
 *       Apostrophes, colons and {@code * # $ % & ^ ~ |} are never touched;
 *   <li>{@link #processDigitArticle}: lower case, split on whitespace, the number words "none", "zero" .. "ten" become
 *       digits ("none" is "0"), the articles "a", "an", "the" are dropped, and words of the reference's contractions
 *       table get their apostrophe ({@code "dont"} to {@code "don't"}); the words are joined by single spaces. The
 *       table is the reference's, quirks included: its keys with capitals ({@code "Im"}) never match a lower-cased
 *       word, and {@code "somebody'd"} maps to {@code "somebodyd"}.
 * </ol>
 *
 * <p>The caller decides WHEN steps 2 and 3 run: the reference runs them, on the ground-truth answers and on the result
 * alike, only when the ground-truth answers of a question are not all the same ({@link VqaAccuracy}).
 *
 * <p>Character classes are those of the reference run by Python 3 on {@code str}: a digit is any Unicode decimal
 * digit, whitespace (for {@code split} and {@code strip}) is Python's {@code str.isspace}, lower case is the full
 * Unicode case mapping. (Under Python 2, for which the script was written, a digit was ASCII only; the two differ only
 * on answers with non-ASCII digits.)
 */
public final class AnswerNormalization {
  /** Deleted or replaced by a space by {@link #processPunctuation}, in the reference's order. */
  static final List<String> PUNCTUATION = List.of(";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_",
      "-", ">", "<", "@", "`", ",", "?", "!");

  /** The reference's periodStrip; its "(?!<=\d)" was meant as a lookbehind but is a lookahead, always true there. */
  private static final Pattern PERIOD = Pattern.compile("(?!<=\\d)(\\.)(?!\\d)", Pattern.UNICODE_CHARACTER_CLASS);
  /** The reference's commaStrip, only ever searched for (its presence turns spacing into deletion). */
  private static final Pattern DIGIT_COMMA_DIGIT = Pattern.compile("(\\d)(,)(\\d)", Pattern.UNICODE_CHARACTER_CLASS);
  /** {@code re.UNICODE}, which the reference passes as {@code re.sub}'s count. */
  private static final int MAX_PERIODS = 32;

  private static final Map<String, String> NUMBER_WORDS = Map.ofEntries(Map.entry("none", "0"), Map.entry("zero", "0"),
      Map.entry("one", "1"), Map.entry("two", "2"), Map.entry("three", "3"), Map.entry("four", "4"),
      Map.entry("five", "5"), Map.entry("six", "6"), Map.entry("seven", "7"), Map.entry("eight", "8"),
      Map.entry("nine", "9"), Map.entry("ten", "10"));
  private static final Set<String> ARTICLES = Set.of("a", "an", "the");
  /** The reference's contractions table, word without apostrophe -> word with (pairs). */
  private static final Map<String, String> CONTRACTIONS = pairs(
      "aint", "ain't", "arent", "aren't", "cant", "can't", "couldve", "could've", "couldnt", "couldn't",
      "couldn'tve", "couldn't've", "couldnt've", "couldn't've", "didnt", "didn't", "doesnt", "doesn't",
      "dont", "don't", "hadnt", "hadn't", "hadnt've", "hadn't've", "hadn'tve", "hadn't've", "hasnt", "hasn't",
      "havent", "haven't", "hed", "he'd", "hed've", "he'd've", "he'dve", "he'd've", "hes", "he's", "howd", "how'd",
      "howll", "how'll", "hows", "how's", "Id've", "I'd've", "I'dve", "I'd've", "Im", "I'm", "Ive", "I've",
      "isnt", "isn't", "itd", "it'd", "itd've", "it'd've", "it'dve", "it'd've", "itll", "it'll", "let's", "let's",
      "maam", "ma'am", "mightnt", "mightn't", "mightnt've", "mightn't've", "mightn'tve", "mightn't've",
      "mightve", "might've", "mustnt", "mustn't", "mustve", "must've", "neednt", "needn't", "notve", "not've",
      "oclock", "o'clock", "oughtnt", "oughtn't", "ow's'at", "'ow's'at", "'ows'at", "'ow's'at",
      "'ow'sat", "'ow's'at", "shant", "shan't", "shed've", "she'd've", "she'dve", "she'd've", "she's", "she's",
      "shouldve", "should've", "shouldnt", "shouldn't", "shouldnt've", "shouldn't've", "shouldn'tve", "shouldn't've",
      "somebody'd", "somebodyd", "somebodyd've", "somebody'd've", "somebody'dve", "somebody'd've",
      "somebodyll", "somebody'll", "somebodys", "somebody's", "someoned", "someone'd", "someoned've", "someone'd've",
      "someone'dve", "someone'd've", "someonell", "someone'll", "someones", "someone's", "somethingd", "something'd",
      "somethingd've", "something'd've", "something'dve", "something'd've", "somethingll", "something'll",
      "thats", "that's", "thered", "there'd", "thered've", "there'd've", "there'dve", "there'd've",
      "therere", "there're", "theres", "there's", "theyd", "they'd", "theyd've", "they'd've",
      "they'dve", "they'd've", "theyll", "they'll", "theyre", "they're", "theyve", "they've", "twas", "'twas",
      "wasnt", "wasn't", "wed've", "we'd've", "we'dve", "we'd've", "weve", "we've", "werent", "weren't",
      "whatll", "what'll", "whatre", "what're", "whats", "what's", "whatve", "what've", "whens", "when's",
      "whered", "where'd", "wheres", "where's", "whereve", "where've", "whod", "who'd", "whod've", "who'd've",
      "who'dve", "who'd've", "wholl", "who'll", "whos", "who's", "whove", "who've", "whyll", "why'll",
      "whyre", "why're", "whys", "why's", "wont", "won't", "wouldve", "would've", "wouldnt", "wouldn't",
      "wouldnt've", "wouldn't've", "wouldn'tve", "wouldn't've", "yall", "y'all", "yall'll", "y'all'll",
      "y'allll", "y'all'll", "yall'd've", "y'all'd've", "y'alld've", "y'all'd've", "y'all'dve", "y'all'd've",
      "youd", "you'd", "youd've", "you'd've", "you'dve", "you'd've", "youll", "you'll", "youre", "you're",
      "youve", "you've");

  private AnswerNormalization() {}

  /** Steps 2 and 3 as the reference applies them to one answer: punctuation, then digits and articles. */
  public static String normalize(String answer) {
    return processDigitArticle(processPunctuation(answer));
  }

  /** Step 1: newlines and tabs to spaces, then Python's {@code strip()}. */
  public static String clean(String answer) {
    String s = answer.replace('\n', ' ').replace('\t', ' ');
    int from = 0;
    int to = s.length();
    while (from < to && isPythonSpace(s.charAt(from))) from++;
    while (to > from && isPythonSpace(s.charAt(to - 1))) to--;
    return s.substring(from, to);
  }

  /** Step 2 (see the class comment): punctuation deleted or spaced, then up to 32 periods not before a digit go. */
  public static String processPunctuation(String in) {
    boolean digitCommaDigit = DIGIT_COMMA_DIGIT.matcher(in).find();
    String out = in;
    for (String p : PUNCTUATION) {
      boolean nextToSpace = in.contains(p + " ") || in.contains(" " + p);
      out = out.replace(p, nextToSpace || digitCommaDigit ? "" : " ");
    }
    Matcher period = PERIOD.matcher(out);
    StringBuilder b = new StringBuilder();
    for (int n = 0; n < MAX_PERIODS && period.find(); n++) period.appendReplacement(b, "");
    period.appendTail(b);
    return b.toString();
  }

  /** Step 3 (see the class comment): lower case, number words to digits, articles dropped, contractions mended. */
  public static String processDigitArticle(String in) {
    List<String> words = new ArrayList<>();
    for (String word : pythonSplit(in.toLowerCase(Locale.ROOT))) {
      String w = NUMBER_WORDS.getOrDefault(word, word);
      if (!ARTICLES.contains(w)) words.add(CONTRACTIONS.getOrDefault(w, w));
    }
    return String.join(" ", words);
  }

  /** Python's {@code str.split()} without arguments: runs of whitespace separate, none kept at either end. */
  private static List<String> pythonSplit(String s) {
    List<String> words = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      while (i < s.length() && isPythonSpace(s.charAt(i))) i++;
      int start = i;
      while (i < s.length() && !isPythonSpace(s.charAt(i))) i++;
      if (i > start) words.add(s.substring(start, i));
    }
    return words;
  }

  /**
   * Python's {@code str.isspace}: Java's whitespace (which leaves out the no-break spaces), the space separators (which
   * include them) and NEXT LINE (U+0085).
   */
  static boolean isPythonSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
  }

  private static Map<String, String> pairs(String... keyValue) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < keyValue.length; i += 2) m.put(keyValue[i], keyValue[i + 1]);
    return Map.copyOf(m);
  }
}
