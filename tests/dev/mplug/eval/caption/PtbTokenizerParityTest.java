package dev.mplug.eval.caption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Parity with the reference: {@code eval/caption-ptb-expected.json} holds [input, expected] pairs, the expected side
 * written by the Stanford PTBTokenizer compiled from CoreNLP 3.4.1's sources ({@code -preserveLines -lowerCase}) and
 * coco-caption's punctuation filter: captions with clitics, quotes, brackets, abbreviations, numbers and symbols, and
 * generated strings of caption characters (e-mail addresses, tags, URLs, soft hyphens, runs of punctuation, symbols,
 * superscripts, non-Latin scripts, characters beyond the Basic Multilingual Plane).
 */
class PtbTokenizerParityTest {
  @Test
  void matchesTheStanfordTokenizerOnItsOwnOutputs() throws IOException {
    String[][] pairs;
    try (InputStream in = PtbTokenizerParityTest.class.getResourceAsStream("/eval/caption-ptb-expected.json")) {
      pairs = new ObjectMapper().readValue(in, String[][].class);
    }
    assertTrue(pairs.length >= 110, "pairs: " + pairs.length);
    List<String> wrong = new ArrayList<>();
    for (String[] pair : pairs) {
      String got = PtbTokenizer.tokenize(pair[0]);
      if (!got.equals(pair[1])) wrong.add(pair[0] + " -> [" + got + "], expected [" + pair[1] + "]");
    }
    assertEquals(List.of(), wrong);
  }
}
