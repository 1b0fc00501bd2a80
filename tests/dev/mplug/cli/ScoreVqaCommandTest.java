package dev.mplug.cli;

import static dev.mplug.cli.CliErrorsTest.assertOneLine;
import static dev.mplug.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mplug score vqa} end to end on small VQA v2 files (values worked out in the comments), and every bad results
 * file: exit 2, one line naming the file and the item, nothing on stdout.
 */
class ScoreVqaCommandTest {
  @TempDir Path tmp;
  Path annotations;
  Path questions;

  /** Ten VQA v2 answer objects: {@code n} times {@code a}, then {@code rest}. */
  static String answers(int n, String a, String... rest) {
    List<String> all = new ArrayList<>();
    for (int i = 0; i < n; i++) all.add(a);
    all.addAll(List.of(rest));
    List<String> json = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      json.add("{\"answer\": \"" + all.get(i) + "\", \"answer_confidence\": \"yes\", \"answer_id\": " + (i + 1) + "}");
    }
    return "[" + String.join(", ", json) + "]";
  }

  static String annotation(int id, String questionType, String answerType, String answers) {
    return "{\"question_id\": " + id + ", \"image_id\": " + (100 + id) + ", \"question_type\": \"" + questionType
        + "\", \"answer_type\": \"" + answerType + "\", \"multiple_choice_answer\": \"x\", \"answers\": " + answers
        + "}";
  }

  @BeforeEach
  void files() throws IOException {
    annotations = Files.writeString(tmp.resolve("ann.json"), "{\"annotations\": [\n"
        + annotation(1, "is the", "yes/no", answers(10, "yes")) + ",\n"
        + annotation(2, "is the", "yes/no", answers(2, "no", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"))
        + ",\n"
        + annotation(3, "how many", "number", answers(1, "3", "4", "4", "4", "4", "4", "4", "4", "4", "4")) + "]}\n");
    questions = Files.writeString(tmp.resolve("ques.json"), """
        {"questions": [{"question_id": 1, "image_id": 101, "question": "Is the sky blue?"},
                       {"question_id": 2, "image_id": 102, "question": "Is the cat asleep?"},
                       {"question_id": 3, "image_id": 103, "question": "How many dogs?"}]}
        """);
  }

  CliErrorsTest.Result score(String results) throws IOException {
    Path r = Files.writeString(tmp.resolve("res.json"), results);
    return run("score", "vqa", "--annotations", annotations.toString(), "--questions", questions.toString(),
        "--results", r.toString());
  }

  @Test
  void reportsTheReferenceKeysInPercent() throws IOException {
    CliErrorsTest.Result r = score("""
        [{"question_id": 1, "answer": "yes"},
         {"question_id": "2", "answer": "No"},
         {"question_id": 3, "answer": "three"}]
        """);
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertEquals(List.of("overall", "perAnswerType", "perQuestionType", "per_question"),
        iteratorToList(json.fieldNames()));
    // q1: ten "yes", "yes": 1. q2: 2 "no" of 10, normalised "No" -> "no": (2 * 1/3 + 8 * 2/3) / 10 = 0.6.
    // q3: "three" -> "3", one match: 9 * 1/3 / 10 = 0.3. Overall 100 * 1.9 / 3 = 63.33; yes/no 100 * 1.6 / 2 = 80.
    assertEquals(63.33, json.get("overall").asDouble());
    assertEquals("{\"yes/no\":80.0,\"number\":30.0}", json.get("perAnswerType").toString());
    assertEquals("{\"is the\":80.0,\"how many\":30.0}", json.get("perQuestionType").toString());
    assertEquals("{\"1\":100.0,\"2\":60.0,\"3\":30.0}", json.get("per_question").toString());
  }

  static List<String> iteratorToList(Iterator<String> it) {
    List<String> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  /** Exit 2, one line {@code mplug score vqa: <res.json...>} containing {@code expected}, nothing on stdout. */
  void refused(String results, String expected) throws IOException {
    CliErrorsTest.Result r = score(results);
    String line = assertOneLine(r, 2, "mplug score vqa: " + tmp.resolve("res.json"));
    assertTrue(line.contains(expected), line);
    assertEquals("", r.out());
  }

  @Test
  void everyBadResultsFileIsOneLineNamingFileAndItem() throws IOException {
    String ok = "{\"question_id\": 2, \"answer\": \"no\"}, {\"question_id\": 3, \"answer\": \"3\"}";
    // line 2 is ' {"question_id": 2 "answer"...': the unexpected '"' is its 20th character
    refused("[{\"question_id\": 1, \"answer\": \"yes\"},\n {\"question_id\": 2 \"answer\": \"no\"}]",
        ":2:20: malformed JSON: Unexpected character");
    refused("{\"question_id\": 1, \"answer\": \"yes\"}", ": expected a JSON array of results, got an object");
    refused("", ": expected a JSON array of results, got an empty file");
    refused("[{\"question_id\": 1, \"answer\": \"yes\"},\n \"no\"]",
        ":2: result 1 must be a JSON object, got a string (\"no\")");
    refused("[{\"answer\": \"yes\"}, " + ok + "]", ":1: result 0 has no \"question_id\"");
    refused("[{\"question_id\": 1.5, \"answer\": \"yes\"}, " + ok + "]",
        ":1: result 0: \"question_id\" must be an integer or a string, got a number (1.5)");
    refused("[{\"question_id\": 1, \"answer\": \"yes\"},\n {\"question_id\": \"1\", \"answer\": \"no\"}, " + ok + "]",
        ":2: question_id 1: a second result for this item (the first is at line 1)");
    refused("[{\"question_id\": 1, \"answer\": 3}, " + ok + "]",
        ":1: question_id 1: \"answer\" must be a string, got a number (3)");
    refused("[{\"question_id\": 1}, " + ok + "]", ":1: question_id 1: no \"answer\"");
    refused("[{\"question_id\": 1, \"answer\": \"yes\"}, " + ok + ",\n {\"question_id\": 99, \"answer\": \"no\"}]",
        ":2: question_id 99: not in the annotations");
    refused("[{\"question_id\": 1, \"answer\": \"yes\"}]",
        ": no result for question_id 2 nor for 1 other annotated item");
    refused("[{\"question_id\": 1, \"answer\": \"yes\"}, {\"question_id\": 2, \"answer\": \"no\"}]",
        ": no result for question_id 3");
  }

  @Test
  void missingFilesAndMismatchedQuestionsAreOneLine() throws IOException {
    Path none = tmp.resolve("none.json");
    String line = assertOneLine(run("score", "vqa", "--annotations", annotations.toString(), "--questions",
        questions.toString(), "--results", none.toString()), 2, "mplug score vqa: ");
    assertEquals("mplug score vqa: results file " + none + " does not exist", line);
    Path q2 = Files.writeString(tmp.resolve("q2.json"), "{\"questions\": [{\"question_id\": 1}, {\"question_id\": 2},"
        + " {\"question_id\": 4}]}");
    Path res = Files.writeString(tmp.resolve("res.json"), "[]");
    line = assertOneLine(run("score", "vqa", "--annotations", annotations.toString(), "--questions", q2.toString(),
        "--results", res.toString()), 2, "mplug score vqa: ");
    assertEquals("mplug score vqa: " + q2 + ": question_id 4 has no annotation in " + annotations, line);
  }
}
