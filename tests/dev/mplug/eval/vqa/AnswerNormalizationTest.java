package dev.mplug.eval.vqa;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Known answers of the official vqaEval normalisation, worked out by hand from its rules (and, while writing, checked
 * against the reference script run by Python 3 on 358 strings).
 */
class AnswerNormalizationTest {
  @Test
  void cleanTurnsNewlinesAndTabsIntoSpacesAndStripsPythonWhitespace() {
    assertEquals("yes", AnswerNormalization.clean("\tyes\n"));
    assertEquals("a  b", AnswerNormalization.clean("a\t\nb"));
    // U+00A0 (no-break space) is whitespace to Python's strip(), not to Java's String.strip().
    assertEquals("yes", AnswerNormalization.clean("\u00a0yes\u00a0"));
  }

  @Test
  void punctuationIsDeletedNextToASpaceAndOtherwiseReplacedByASpace() {
    assertEquals("yes no", AnswerNormalization.processPunctuation("yes/no"));      // "/" alone: a space
    assertEquals("red blue", AnswerNormalization.processPunctuation("red, blue"));  // ", " present: deleted
    assertEquals("red blue", AnswerNormalization.processPunctuation("red,blue"));   // no space: a space
    // Each character decides for itself, on the text as given: " (" is there, so "(" goes; ")" has no space
    // beside it, so it becomes one: "dark (red)" -> "dark red)" -> "dark red ".
    assertEquals("dark red ", AnswerNormalization.processPunctuation("dark (red)"));
    assertEquals(" red ", AnswerNormalization.processPunctuation("(red)"));
  }

  @Test
  void aDigitCommaDigitAnywhereMakesEveryPunctuationMarkDeleted() {
    assertEquals("1000", AnswerNormalization.processPunctuation("1,000"));
    assertEquals("1000 approx", AnswerNormalization.processPunctuation("1,000 (approx)"));
    assertEquals("1 2", AnswerNormalization.processPunctuation("1/2"));     // no digit-comma-digit: a space
    assertEquals("123", AnswerNormalization.processPunctuation("1,2/3"));   // with one, "/" is deleted too
  }

  @Test
  void periodsGoUnlessADigitFollowsAndAtMost32OfThem() {
    assertEquals("yes", AnswerNormalization.processPunctuation("yes."));
    assertEquals("2.5", AnswerNormalization.processPunctuation("2.5"));
    assertEquals("3.14", AnswerNormalization.processPunctuation("3.14."));
    assertEquals("mr smith", AnswerNormalization.processPunctuation("mr. smith"));
    // re.UNICODE (= 32) lands in re.sub's count: of 40 periods, 40 - 32 = 8 stay.
    assertEquals("........", AnswerNormalization.processPunctuation(".".repeat(40)));
    // apostrophes, colons and the like are not in the list
    assertEquals("don't 3:00 50% #1", AnswerNormalization.processPunctuation("don't 3:00 50% #1"));
  }

  @Test
  void digitsArticlesAndContractions() {
    assertEquals("2 dogs", AnswerNormalization.processDigitArticle("The Two Dogs"));
    assertEquals("0", AnswerNormalization.processDigitArticle("none"));
    assertEquals("10", AnswerNormalization.processDigitArticle("TEN"));
    assertEquals("apple", AnswerNormalization.processDigitArticle("an apple"));
    assertEquals("", AnswerNormalization.processDigitArticle("a the an"));
    assertEquals("don't", AnswerNormalization.processDigitArticle("Dont"));
    assertEquals("b c", AnswerNormalization.processDigitArticle("  a   b\u00a0 c "));   // Python's split()
    // the table's quirks: capitalised keys never match a lower-cased word; one entry drops the apostrophe
    assertEquals("im", AnswerNormalization.processDigitArticle("Im"));
    assertEquals("somebodyd", AnswerNormalization.processDigitArticle("somebody'd"));
  }

  @Test
  void normalizeIsPunctuationThenDigitsAndArticles() {
    assertEquals("yes", AnswerNormalization.normalize("Yes."));
    assertEquals("2", AnswerNormalization.normalize("two"));
    assertEquals("dog", AnswerNormalization.normalize("a dog!"));
    // "," sits beside a space, so it is deleted; "a" then goes as an article
    assertEquals("red blue", AnswerNormalization.normalize("a red, blue"));
  }
}
