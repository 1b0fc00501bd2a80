package dev.mplug.eval.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Known answers of coco-caption's tokenisation (Stanford PTBTokenizer 3.4.1 -preserveLines -lowerCase, punctuation
 * dropped), worked out from the lexer's rules.
 */
class PtbTokenizerTest {
  @Test
  void lowerCasesAndDropsSentencePunctuation() {
    assertEquals("a man riding a wave on top of a surfboard",
        PtbTokenizer.tokenize("A man riding a wave on top of a surfboard."));
    assertEquals("a man in a hat", PtbTokenizer.tokenize("A   man\nin\ta hat ;: "));
    assertEquals("", PtbTokenizer.tokenize(""));
    assertEquals("", PtbTokenizer.tokenize(" ... , ! ?"));
  }

  @Test
  void splitsClitics() {
    assertEquals(List.of("It", "'s", "a", "dog", "'s", "life", ",", "is", "n't", "it", "?"),
        PtbTokenizer.ptbTokens("It's a dog's life, isn't it?"));
    assertEquals("they 're here we 'll see i 'm sure i 'd go we 've been",
        PtbTokenizer.tokenize("They're here; we'll see. I'm sure I'd go, we've been."));
    // n't keeps its n; the stem loses it ("ca", "wo")
    assertEquals("do n't ca n't wo n't", PtbTokenizer.tokenize("Don't! Can't. Won't"));
    assertEquals("what 's up do n't", PtbTokenizer.tokenize("WHAT'S UP DON'T"));
    // curly apostrophes in clitics become ASCII; curly quotes are dropped
    assertEquals("do n't worry it 's fine", PtbTokenizer.tokenize("Don\u2019t worry it\u2019s \u201cfine\u201d"));
    // assimilations are split as the lexer does
    assertEquals("he can not gon na wan na", PtbTokenizer.tokenize("He cannot; gonna wanna"));
    // a plural possessive's apostrophe is a quote token and is dropped; o'clock and 'n' stay words
    assertEquals("the dogs bowls at 5 o'clock rock 'n' roll", PtbTokenizer.tokenize("the dogs' bowls at 5 o'clock "
        + "rock 'n' roll"));
  }

  @Test
  void keepsHyphenatedWordsAndNumbersWhole() {
    assertEquals("a black-and-white photo of a 3-year-old 's cake",
        PtbTokenizer.tokenize("A black-and-white photo of a 3-year-old's cake."));
    assertEquals("there are 3.5 cakes and 1,000 candles at 10:30 and -5 degrees on a 2.5-inch 2nd screen",
        PtbTokenizer.tokenize("There are 3.5 cakes and 1,000 candles at 10:30 and -5 degrees on a 2.5-inch 2nd "
            + "screen."));
    assertEquals("black/white and/or 1/2", PtbTokenizer.tokenize("black/white and/or 1/2"));
    // "1 1/2" is one fraction token whose space the lexer turns into a no-break space
    assertEquals("1\u00A01/2 cups", PtbTokenizer.tokenize("1 1/2 cups"));
  }

  @Test
  void quotesBracketsAndDashes() {
    assertEquals(List.of("A", "-LRB-", "small", "-RRB-", "dog", "-LCB-", "big", "-RCB-", "-LSB-", "x", "-RSB-", "``",
        "quoted", "''", "`", "single", "'", "text"),
        PtbTokenizer.ptbTokens("A (small) dog {big} [x] \"quoted\" 'single' text"));
    // the reference lower-cases before filtering its upper-case "-LRB-": bracket tokens survive in lower case
    assertEquals("a -lrb- small -rrb- dog -lcb- big -rcb- -lsb- x -rsb- quoted single text",
        PtbTokenizer.tokenize("A (small) dog {big} [x] \"quoted\" 'single' text"));
    // "-" and "--" (also 3 or 4 hyphens, which become "--") are dropped; 5 hyphens are a kept token
    assertEquals(List.of("A", "--", "b", "--", "c", "-", "d", "-----", "e", "--"),
        PtbTokenizer.ptbTokens("A -- b --- c - d ----- e \u2014"));
    assertEquals("a b c d ----- e", PtbTokenizer.tokenize("A -- b --- c - d ----- e \u2014"));
    // runs of ! and ? are one token, not in coco-caption's list
    assertEquals("wow !! really ?! yes", PtbTokenizer.tokenize("Wow!! Really?! Yes..."));
  }

  @Test
  void abbreviationsKeepTheirPeriod() {
    assertEquals(List.of("Mr.", "Smith", "at", "St.", "Louis", ",", "etc.", "."),
        PtbTokenizer.ptbTokens("Mr. Smith at St. Louis, etc."));
    assertEquals("a t.v. at 5 a.m. of the letter a.", PtbTokenizer.tokenize("A t.v. at 5 a.m. of the letter a."));
    // before a capitalised sentence start a single letter gives up its period
    assertEquals(List.of("I", ".", "The", "end"), PtbTokenizer.ptbTokens("I. The end"));
  }

  @Test
  void symbolsAndCurrency() {
    assertEquals("$ 5 and 50 % and # 1 and us$ 3 # 2 $ 4", PtbTokenizer.tokenize("$5 and 50% and #1 and US$ 3 "
        + "\u00A32 \u20AC4"));
    // characters the lexer cannot tokenise (an emoji here) are deleted
    assertEquals("emoji here", PtbTokenizer.tokenize("emoji \uD83D\uDE00 here"));
  }
}
