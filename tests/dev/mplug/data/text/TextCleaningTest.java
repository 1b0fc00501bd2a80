package dev.mplug.data.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextCleaningTest {
  /** Expected outputs written by the official pre_caption / pre_question (mPLUG dataset/utils.py) in Python. */
  @Test
  void matchesTheOfficialFunctions() throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<String> failures = new ArrayList<>();
    int n = 0;
    for (String line : Files.readAllLines(Path.of("tests/resources/data/text-cleaning-expected.jsonl"))) {
      JsonNode c = json.readTree(line);
      String text = c.get("text").asText();
      int max = c.get("max_words").asInt();
      String caption = TextCleaning.preCaption(text, max);
      String question = TextCleaning.preQuestion(text, max);
      if (!caption.equals(c.get("caption").asText())) {
        failures.add("pre_caption(" + json.writeValueAsString(text) + ", " + max + ") = "
            + json.writeValueAsString(caption) + ", official " + c.get("caption"));
      }
      if (!question.equals(c.get("question").asText())) {
        failures.add("pre_question(" + json.writeValueAsString(text) + ", " + max + ") = "
            + json.writeValueAsString(question) + ", official " + c.get("question"));
      }
      n++;
    }
    assertTrue(n >= 30, "fixture has the cases");
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void readableExamples() {
    assertEquals("a man riding a snow board", TextCleaning.preCaption("A man, riding a snow-board!", 30));
    assertEquals("person holds a cup mug", TextCleaning.preCaption("  <person> holds a cup/mug.\n", 30));
    assertEquals("one two three", TextCleaning.preCaption("One two three four", 3));
    assertEquals("whats the  colour", TextCleaning.preQuestion("What's the  colour?  ", 30));
  }
}
