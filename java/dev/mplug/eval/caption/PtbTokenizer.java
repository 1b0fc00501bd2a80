package dev.mplug.eval.caption;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * coco-caption's caption tokenisation: the Stanford PTBTokenizer of CoreNLP 3.4.1 run as
 * {@code PTBTokenizer -preserveLines -lowerCase} (its default PTB3 escaping), then the punctuation tokens
 * {@code '' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;} dropped. The Stanford jar is not available here, so
 * this class re-implements the lexer's rules in Java: like the JFlex lexer, at each position every rule is tried, the
 * longest match wins (a rule's trailing context counts towards its length) and ties go to the earlier rule.
 *
 * <p>What it does, as the reference does:
 * <ul>
 *   <li>Words of letters and digits ("abc123", "e.g" with inner dots), hyphenated words and numbers kept whole
 *       ("black-and-white", "3-year-old", "2.5-inch"), numbers with inner {@code . , :} ("3.5", "1,000", "10:30", a
 *       sign in front: "-5"), slash compounds ("and/or"), fractions ("1/2"; "1 1/2" is one token whose space becomes a
 *       no-break space), dates ("12/25/2014"), "o'clock" and similar.</li>
 *   <li>Clitics split off: "it's" -> "it 's", "they're", "we'll", "we've", "i'd", "i'm"; "don't" -> "do n't",
 *       "can't" -> "ca n't", "won't" -> "wo n't"; "cannot" -> "can not", "gonna" -> "gon na" (also gotta, wanna,
 *       lemme, gimme); curly apostrophes become ASCII in clitics.</li>
 *   <li>Punctuation split off; quotes become {@code `` '' ` '}, "(" ")" "{" "}" "[" "]" become -LRB- -RRB- -LCB- -RCB-
 *       -LSB- -RSB-, dashes "--", ellipses "...". Runs such as "!!" or "?!" are one token.</li>
 *   <li>Abbreviations keep their period ("mr.", "dr.", "st.", "etc.", "t.v.", "a.m."; a single letter before a period,
 *       "a.", too), as the lexer's abbreviation rules do.</li>
 *   <li>Lower-casing after tokenising (English locale), then the punctuation list above is dropped. Because the
 *       reference lower-cases before it filters, and its list spells the brackets in upper case, the bracket tokens
 *       survive as "-lrb-", "-rrb-", "-lcb-", "-rcb-" (and "-lsb-", "-rsb-", which are not in the list at all); runs
 *       like "!!" and dashes of 5 or more "-" also survive. This is coco-caption's behaviour, reproduced on
 *       purpose.</li>
 * </ul>
 *
 * <p>Checked against the lexer compiled from CoreNLP 3.4.1's sources (PtbTokenizerParityTest keeps a sample of its
 * outputs): identical on 29,000 human and machine captions and 90,000 generated strings of caption characters,
 * symbols and non-Latin scripts. Not covered (rare in captions; the reference may differ there): the lexer's ACRO
 * forms such as "non-U.S", the exact Unicode tables of its letter class (here the Basic Multilingual Plane's letters
 * and combining marks) and symbol class (here the common ranges), and the longest match inside one rule where Java's
 * regex alternation takes the first alternative that matches. Line breaks inside a caption ({@code \n}, which the
 * reference replaces by a space, and {@code \r}, U+2028 etc., which would shift the reference's lines) count as
 * spaces; each caption is read as a line followed by a newline, as every caption but the last of the reference's
 * input file is.
 */
public final class PtbTokenizer {
  /** The tokens coco-caption drops after tokenising. */
  static final Set<String> PUNCTUATION = Set.of("''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?",
      "!", ",", ":", "-", "--", "...", ";");

  private PtbTokenizer() {}

  /** The caption as coco-caption tokenises it: lower-case tokens joined by one space, punctuation dropped. */
  public static String tokenize(String caption) {
    List<String> kept = new ArrayList<>();
    for (String token : ptbTokens(caption)) {
      String lower = token.toLowerCase(Locale.ENGLISH);
      if (!PUNCTUATION.contains(lower)) kept.add(lower);
    }
    return String.join(" ", kept);
  }

  /** The PTB tokens of one caption, before lower-casing and dropping punctuation. */
  static List<String> ptbTokens(String caption) {
    String text = LINE_BREAKS.matcher(caption).replaceAll(" ") + "\n";
    List<String> tokens = new ArrayList<>();
    Matcher[] matchers = new Matcher[RULES.size()];
    for (int r = 0; r < matchers.length; r++) {
      matchers[r] = RULES.get(r).pattern.matcher(text).useTransparentBounds(true).useAnchoringBounds(false);
    }
    int at = 0;
    while (at < text.length()) {
      int best = -1;
      int bestLength = 0;
      for (int r : candidateRules(text.charAt(at))) {
        Matcher m = matchers[r].region(at, text.length());
        if (m.lookingAt() && m.end() - at > bestLength) {
          best = r;
          bestLength = m.end() - at;
        }
      }
      if (best < 0) {   // untokenizable: the reference deletes it (its default "firstDelete")
        at += Character.charCount(text.codePointAt(at));
        continue;
      }
      Matcher m = matchers[best];
      Emit emit = RULES.get(best).action.emit(m.group(TOKEN));
      if (emit.text != null && !emit.text.isEmpty()) tokens.add(emit.text);   // a lone soft hyphen gives no token
      at += emit.advance;
    }
    return tokens;
  }

  /** Per first character, the rules that can match there (a speed-up only: the others never match). */
  private static final Map<Character, int[]> RULES_STARTING_WITH = new ConcurrentHashMap<>();

  /**
   * The rules whose pattern matches {@code c} alone or could go on matching after it; all rules for half of a
   * surrogate pair, which a pattern sees only together with its other half.
   */
  private static int[] candidateRules(char c) {
    if (Character.isSurrogate(c)) return IntStream.range(0, RULES.size()).toArray();
    return RULES_STARTING_WITH.computeIfAbsent(c, first -> IntStream.range(0, RULES.size()).filter(r -> {
      Matcher m = RULES.get(r).pattern.matcher(String.valueOf(first));
      return m.lookingAt() || m.hitEnd();
    }).toArray());
  }

  // ---- the lexer's rules ----------------------------------------------------------------------------------------

  /** What a matched rule produces: a token (null for none) and how far the input advances. */
  private record Emit(String text, int advance) {}

  @FunctionalInterface
  private interface Action {
    /** {@code token} is the matched text without its trailing context. */
    Emit emit(String token);
  }

  /** A rule: its pattern (group {@value #TOKEN} is the token; what follows it is trailing context) and its action. */
  private record Rule(Pattern pattern, Action action) {}

  private static final String TOKEN = "t";
  private static final Pattern LINE_BREAKS = Pattern.compile("\r\n|[\n\r\u000B\u000C\u0085\u2028\u2029]");

  // the lexer's character classes and macros (names as in CoreNLP's PTBLexer.flex)
  // the lexer reads UTF-16 units: letters and digits are those of the Basic Multilingual Plane, and characters
  // beyond it (emoji, supplementary letters) are untokenizable and deleted
  private static final String BMP = "&&[\\x{0}-\\x{FFFF}]";
  private static final String PLAIN_LETTER = "[\\p{L}" + BMP + "]";
  private static final String LETTER = "[\\p{L}\\p{M}\\u00AD" + BMP + "]";
  private static final String DIGIT = "[\\p{Nd}" + BMP + "]";
  private static final String SPACE = "[ \\t\\u00A0\\u2000-\\u200A\\u3000]";
  private static final String SPACENL = "(?:" + SPACE + "|\\n)";
  private static final String APOS = "(?:['\\u0092\\u2019]|&apos;)";
  private static final String APOSETCETERA = "(?:['\\u0092\\u2019`\\u0091\\u2018\\u201B]|&apos;)";
  private static final String WORD = LETTER + "(?:" + LETTER + "|" + DIGIT + ")*(?:[.!?]" + LETTER + "(?:" + LETTER
      + "|" + DIGIT + ")*)*";
  private static final String REDAUX = APOS + "(?i:[msd]|re|ve|ll)";
  private static final String SREDAUX = "(?i:n)" + APOSETCETERA + "(?i:t)";
  private static final String SWORD = "[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*";
  private static final String INSENTP = "[,;:\\u3001]";
  private static final String ACRO = "[A-Za-z](?:\\.[A-Za-z])*";
  private static final String ACRO2 = "[A-Za-z](?:\\.[A-Za-z])+";
  private static final String ALNUM = "[\\p{L}\\p{Nd}" + BMP + "]";
  private static final String THING_PART = "(?:[dDoOlL]" + APOSETCETERA + ALNUM + ")?" + ALNUM + "+";
  private static final String THING = THING_PART + "(?:[-_\\u058A\\u2010\\u2011]" + THING_PART + ")*";
  private static final String HTHING = "[A-Za-z0-9][A-Za-z0-9.,\\u00AD]*(?:-(?:[A-Za-z0-9\\u00AD]+|" + ACRO2 + "\\.))+";
  private static final String ABBREV1 = "(?:(?i:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
      + "|(?i:mon|tues?|wed|thu|thurs|fri)"
      + "|(?i:ala|ariz|calif|colo|conn|ct|dak|fla|ga|ind|kans?|ky|md|mich|minn|mo|mont|neb|nev|okla|penn|tenn|va|vt"
      + "|wisc?|wyo)|A(?i:z|rk)|D(?i:el)|I(?i:ll)|L(?i:a)|M(?i:ass|iss)|O(?i:re)|P(?i:a)|T(?i:ex)|W(?i:ash)"
      + "|(?i:pp?t)[ye](?i:s)?|(?i:inc|cos?|corp|ltd|plc|rt|bancorp|bhd|assn|univ|intl|sys)"
      + "|(?i:tel|est|ext|sq)|(?i:jr|sr|bros|ed\\.d|ph\\.d|blvd|rd|esq)|(?i:etc|al|seq|bldg))\\.";
  private static final String ABTITLE = "(?i:mrs?|ms|drs?|profs?|sens?|reps?|attys?|lt|col|gen|messrs|govs?|adm|rev"
      + "|maj|sgt|cpl|pvt|capt|ste?|ave|pres|lieut|hon|brig|co?mdr|pfc|spc|supts?|det|mt|ft|adj|adv|asst|assoc|ens"
      + "|insp|mlle|mme|msgr|sfc)|M(?i:iss)";
  private static final String ABBREV2 = "(?:" + ABTITLE + "|(?i:vs|alex|wm|jos|cie|a\\.k\\.a|cf|treas|ph"
      + "|invt|elec|natl|m[ft]g|dept)|" + ACRO + ")\\.";
  /** The capitalised words after which the lexer takes an acronym's period as a sentence end too. */
  private static final String SENTENCE_STARTS = "(?:A(?i:bout|ccording|dditionally|fter|n|s|t)?|B(?i:ut)"
      + "|E(?i:arlier)|H(?i:e|er|ere|owever)|I(?i:f|n|t)|L(?i:ast)|M(?i:any|ore|r\\.|s\\.)|N(?i:ow)"
      + "|O(?i:nce|ne|ther|ur)|S(?i:he|ince|o|ome|uch)|T(?i:hat|he|heir|hen|here|hese|hey|his)"
      + "|W(?i:e|hen|hile|hat)|Y(?i:et|ou))";
  private static final String MISCSYMBOL = "[+%&~^|\\\\\\u00A6\\u00A7\\u00A8\\u00A9\\u00AC\\u00AE\\u00AF"
      + "\\u00B0-\\u00BA\\u00D7\\u00F7\\u0387\\u2016\\u2017\\u2020-\\u2023\\u2030-\\u2038\\u203B\\u203E-\\u2042"
      + "\\u2044\\u207A-\\u207F\\u208A-\\u208E\\u2100-\\u214F\\u2190-\\u21FF\\u2200-\\u2BFF\\u3012\\u30FB"
      + "\\uFF01-\\uFF0F\\uFF1A-\\uFF20\\uFF3B-\\uFF40\\uFF5B-\\uFF65]";

  private static final Action AS_IS = t -> new Emit(t, t.length());
  private static final Action SKIP = t -> new Emit(null, t.length());

  private static Action as(String text) {
    return t -> new Emit(text, t.length());
  }

  private static Action map(UnaryOperator<String> f) {
    return t -> new Emit(f.apply(t), t.length());
  }

  /** The token includes its final period and the period is read again (the lexer's {@code yypushback(1)}). */
  private static final Action PERIOD_AGAIN = t -> new Emit(t, t.length() - 1);

  private static Rule rule(String regex, Action action) {
    String withToken = regex.contains("(?<" + TOKEN + ">") ? regex : "(?<" + TOKEN + ">" + regex + ")";
    return new Rule(Pattern.compile(withToken), action);
  }

  private static String token(String regex) {
    return "(?<" + TOKEN + ">" + regex + ")";
  }

  private static String withoutSoftHyphens(String s) {
    return s.replace("\u00AD", "");
  }

  /** The lexer's LaTeX quotes: ASCII quotes by the guessed side, curly ones by their side. */
  private static String latexQuotes(String s, boolean probablyLeft) {
    s = s.replaceAll("&apos;|'", probablyLeft ? "`" : "'").replaceAll("\"|&quot;", probablyLeft ? "``" : "''");
    return s.replaceAll("[\\u0091\\u2018\\u201B\\u2039]", "`").replaceAll("[\\u0092\\u2019\\u203A]", "'")
        .replaceAll("[\\u0093\\u201C\\u00AB]", "``").replaceAll("[\\u0094\\u201D\\u00BB]", "''");
  }

  private static final Action LEFT_QUOTE = map(t -> latexQuotes(t, true));
  private static final Action RIGHT_QUOTE = map(t -> latexQuotes(t, false));

  private static String brackets(String s) {
    return s.replace("(", "-LRB-").replace(")", "-RRB-");
  }

  private static final List<Rule> RULES = List.of(
      rule("(?i:c\\+\\+|[cf]#)", AS_IS),
      // assimilations: the first part now, the rest read again
      rule(token("(?i:can)") + "(?i:not)", AS_IS),
      rule(token("(?i:gon(?=na)|got(?=ta)|lem(?=me)|gim(?=me)|wan(?=na))") + "(?i:na|ta|me)", AS_IS),
      rule(token("'(?i:t)") + "(?i:was|is)", AS_IS),
      rule("<(?:[!?][A-Za-z-][^>\\r\\n]*|[A-Za-z][A-Za-z0-9_:.-]*(?: +(?:[A-Za-z][A-Za-z0-9_:.-]*|[A-Za-z]"
          + "[A-Za-z0-9_:.-]* *= *(?:'[^']*'|\"[^\"]*\")))* */?|/[A-Za-z][A-Za-z0-9_:.-]*) *>",
          map(t -> t.replace(' ', '\u00A0'))),
      rule("&(?i:md|mdash|ndash);|[\\u0096\\u0097\\u2013\\u2014\\u2015]", as("--")),
      rule("(?i:&amp;)", as("&")),
      rule(token(WORD) + REDAUX, map(PtbTokenizer::withoutSoftHyphens)),
      rule(token(SWORD) + SREDAUX, map(PtbTokenizer::withoutSoftHyphens)),
      rule(WORD, map(PtbTokenizer::withoutSoftHyphens)),
      // words with an apostrophe inside or at an end (the lexer's APOWORD)
      rule(APOS + "(?i:n)" + APOS + "?|[lLdDjJ]" + APOS + "|(?i:dunkin|somethin|ol)" + APOS + "|" + APOS + "(?i:em)"
          + "|" + APOS + "[2-9]0(?i:s)|" + APOS + "(?i:till?)|" + APOS + "(?i:cause)", AS_IS),
      rule("[A-HJ-XZn]" + APOSETCETERA + PLAIN_LETTER + "{2,}", AS_IS),
      rule(PLAIN_LETTER + "+[aeiouyAEIOUY]" + APOSETCETERA + "[aeiouA-Z]" + PLAIN_LETTER + "*", AS_IS),
      rule("(?i:cont'd\\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l)|(?i:o)" + APOSETCETERA
          + "(?i:o)", AS_IS),
      rule(token("(?i:y)" + APOS) + PLAIN_LETTER, AS_IS),
      rule("(?i:https?)://[^ \\t\\n\\f\\r\"<>|(){}]+[^ \\t\\n\\f\\r\"<>|.!?(){},-]", AS_IS),
      rule("(?:(?i:www)\\.(?:[^ \\t\\n\\f\\r\"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4}|(?:[^ \\t\\n\\f\\r\"`'<>|.!?(){},-_$]+"
          + "\\.)+(?i:com|net|org|edu))(?:/[^ \\t\\n\\f\\r\"<>|()]+[^ \\t\\n\\f\\r\"<>|.!?(){},-])?", AS_IS),
      rule("(?:&(?i:lt);|<)?[a-zA-Z0-9][^ \\t\\n\\f\\r\"<>|()\\u00A0{}]*@(?:[^ \\t\\n\\f\\r\"<>|(){}.\\u00A0]+\\.)*"
          + "[^ \\t\\n\\f\\r\"<>|(){}.\\u00A0]+(?:&(?i:gt);|>)?", AS_IS),
      rule("@[a-zA-Z_][a-zA-Z_0-9]*|#" + LETTER + "+", AS_IS),
      rule(token(REDAUX) + "[^A-Za-z]", RIGHT_QUOTE),
      rule(token(SREDAUX) + "[^A-Za-z]", RIGHT_QUOTE),
      rule(DIGIT + "{1,2}[-/]" + DIGIT + "{1,2}[-/]" + DIGIT + "{2,4}", AS_IS),
      rule("[-+]?" + DIGIT + "+", map(PtbTokenizer::withoutSoftHyphens)),
      rule("[-+]?" + DIGIT + "*(?:[.:,\\u00AD\\u066B\\u066C]" + DIGIT + "+)+", map(PtbTokenizer::withoutSoftHyphens)),
      rule("[\\u207A\\u207B\\u208A\\u208B]?(?:[\\u2070\\u00B9\\u00B2\\u00B3\\u2074-\\u2079]+"
          + "|[\\u2080-\\u2089]+)", AS_IS),
      rule("(?:" + DIGIT + "{1,4}[- \\u00A0])?" + DIGIT + "{1,4}(?:\\\\?/|\\u2044)" + DIGIT + "{1,4}",
          map(t -> t.replace(' ', '\u00A0'))),
      rule("[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]", map(t -> switch (t) {
        case "\u00BC" -> "1/4";
        case "\u00BD" -> "1/2";
        case "\u00BE" -> "3/4";
        case "\u2153" -> "1/3";
        case "\u2154" -> "2/3";
        default -> t;
      })),
      rule("-(?i:rrb|lrb|rcb|lcb|rsb|lsb)-|(?i:c\\.d\\.s|pro-|anti-|s(?:&|&amp;)p-500|s(?:&|&amp;)ls)|(?i:cap)" + APOS
          + "(?i:n)|(?i:c)" + APOS + "(?i:est)", map(t -> t.replaceAll("(?i)&amp;", "&"))),
      rule("[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}", AS_IS),
      rule("[A-Z]*\\$|#", AS_IS),
      rule("[\\u00A2\\u00A3\\u00A4\\u00A5\\u0080\\u20A0\\u20AC\\u060B\\u0E3F\\u20A4\\uFFE0\\uFFE1\\uFFE5\\uFFE6]",
          map(t -> t.replace("\u00A2", "cents").replace("\u00A3", "#").replaceAll("[\\u0080\\u00A4\\u20A0\\u20AC]",
              "\\$"))),
      // an acronym before a capitalised sentence start: "I." gives "I" and "."; longer ones keep their period
      rule(token(ACRO + "\\.") + SPACENL + "+" + SENTENCE_STARTS + SPACENL,
          t -> t.length() == 2 ? new Emit(t.substring(0, 1), 1) : new Emit(t, t.length() - 1)),
      rule(token("(?i:ca|figs?|prop|nos?|art|bldg|pp|op)\\.") + SPACENL + "?" + DIGIT, AS_IS),
      rule(token("(?i:pt[ey]|co)\\.") + SPACE + "(?i:ltd|lim)", AS_IS),
      rule(token(ABBREV1) + SPACENL + "(?:" + SPACENL + "|[\\p{Lu}" + BMP + "])", PERIOD_AGAIN),
      rule(token(ABBREV1) + "[\\s\\S]{2}", AS_IS),
      rule(ABBREV1, PERIOD_AGAIN),
      rule(ABBREV2, AS_IS),
      rule(token(APOS + "[0-9][0-9]") + SPACENL, AS_IS),
      rule(token("(?:" + LETTER + "|" + DIGIT + ")+(?:\\.(?:" + LETTER + "|" + DIGIT + ")+)*\\.(?i:bat|bmp|c|class|cgi"
          + "|cpp|dll|docx?|exe|gif|gz|h|html?|jar|java|jpe?g|mov|mp3|pdf|php|pl|png|ppt|ps|py|sql|tar|txt|wav|x|xml"
          + "|zip)") + "(?:" + SPACENL + "|[.?!,])", AS_IS),
      rule(token(WORD + "\\.") + INSENTP, map(PtbTokenizer::withoutSoftHyphens)),
      rule("(?:\\([0-9]{2,3}\\)[ \\u00A0]?|(?:\\+\\+?)?(?:[0-9]{2,4}[- \\u00A0])?[0-9]{2,4}[- \\u00A0])[0-9]{3,4}"
          + "[- \\u00A0]?[0-9]{3,5}|(?:(?:\\+\\+?)?[0-9]{2,4}\\.)?[0-9]{2,4}\\.[0-9]{3,4}\\.[0-9]{3,5}",
          map(t -> brackets(t.replace(' ', '\u00A0')))),
      rule(token("\"|&quot;") + "[A-Za-z0-9$]", LEFT_QUOTE),
      rule("\"|&quot;", RIGHT_QUOTE),
      rule("<|&lt;", as("<")),
      rule(">|&gt;", as(">")),
      rule(token("[<>]?[:;=][-o*']?[()DPdpO\\\\{@|\\[\\]]") + "[^A-Za-z0-9]", map(PtbTokenizer::brackets)),
      rule("[\\^x=~<>]\\.\\[\\^x=~<>\\]|[-^x=~<>']_[-^x=~<>']|\\([-^x=~<>'][_.]?[-^x=~<>']\\)"
          + "|\\([\\^x=~<>']-[\\^x=~<>'`]\\)", map(PtbTokenizer::brackets)),
      rule("\\{", as("-LCB-")),
      rule("\\}", as("-RCB-")),
      rule("\\[", as("-LSB-")),
      rule("\\]", as("-RSB-")),
      rule("\\(", as("-LRB-")),
      rule("\\)", as("-RRB-")),
      rule("-+", map(t -> t.length() == 3 || t.length() == 4 ? "--" : t)),
      rule("\\.{3,5}|(?:\\.[ \\u00A0]){2,4}\\.|\\u2026", as("...")),
      rule("@+|#+|_+", AS_IS),
      rule("\\*+|(?:\\\\\\*){1,3}", AS_IS),
      rule(INSENTP, AS_IS),
      rule("[?!]+", AS_IS),
      rule("[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA\\u3002]", AS_IS),
      rule("=", AS_IS),
      rule("/", AS_IS),
      rule(token(HTHING + "\\.") + INSENTP, map(PtbTokenizer::withoutSoftHyphens)),
      rule(HTHING, map(PtbTokenizer::withoutSoftHyphens)),
      rule(token(THING + "\\.") + INSENTP, AS_IS),
      rule(THING, AS_IS),
      rule(token("[A-Z]+(?:(?:[+&]|&amp;)[A-Z]+)+\\.") + INSENTP, map(t -> t.replaceAll("(?i)&amp;", "&"))),
      rule("[A-Z]+(?:(?:[+&]|&amp;)[A-Z]+)+", map(t -> t.replaceAll("(?i)&amp;", "&"))),
      rule(token("'") + "[A-Za-z][^ \\t\\n\\r\\u00A0]", LEFT_QUOTE),
      rule(REDAUX, RIGHT_QUOTE),
      rule(SREDAUX, RIGHT_QUOTE),
      rule(APOS, RIGHT_QUOTE),
      rule("''|[`\\u2018\\u2019\\u201A\\u201B\\u201C\\u201D\\u0091\\u0092\\u0093\\u0094\\u201E\\u201F\\u2039\\u203A"
          + "\\u00AB\\u00BB]{1,2}", RIGHT_QUOTE),
      rule("<<|>>", AS_IS),
      rule(MISCSYMBOL, AS_IS),
      rule("[\\x00\\x7F\\u200B\\u200E\\u200F\\uFEFF]|" + SPACE + "+|\\n|(?i:&nbsp;)", SKIP));
}
