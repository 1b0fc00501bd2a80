package dev.mplug.cli;

import static dev.mplug.cli.CliErrorsTest.assertOneLine;
import static dev.mplug.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.cli.CliErrorsTest.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mplug score caption} end to end, in-process: the report on stdout for good files (the corpus of
 * CaptionMetricsTest, ids given as integers on one side and strings on the other), and one line on stderr, exit code
 * 2 and nothing on stdout for each kind of bad input.
 */
class ScoreCaptionCommandTest {
  @TempDir Path tmp;

  private static final String REFERENCES = """
      {"images": [{"id": 1}, {"id": 2}, {"id": 3}],
       "annotations": [
        {"image_id": 1, "id": 10, "caption": "A dog."},
        {"image_id": 1, "id": 11, "caption": "A cat!"},
        {"image_id": 2, "id": 12, "caption": "A dog runs."},
        {"image_id": "3", "id": 13, "caption": "The cat"}]}
      """;

  private Path file(String name, String content) throws IOException {
    return Files.writeString(tmp.resolve(name), content);
  }

  private Result score(String results) throws IOException {
    return run("score", "caption", "--references", file("refs.json", REFERENCES).toString(), "--results",
        file("results.json", results).toString());
  }

  @Test
  void printsTheReportAsJson() throws IOException {
    Result r = score("""
        [{"image_id": "1", "caption": "A dog, dog."}, {"image_id": 2, "caption": "a DOG runs"},
         {"image_id": 3, "caption": ""}]
        """);
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    JsonNode report = new ObjectMapper().readTree(r.out());
    assertEquals(List.of("corpus", "per_image", "not_computed"), fieldNames(report));
    assertEquals(List.of("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"), fieldNames(report.get("corpus")));
    assertEquals(3.0321100432548893, report.get("corpus").get("CIDEr").doubleValue(), 1e-12);
    assertEquals(0.7054014371737114, report.get("corpus").get("Bleu_1").doubleValue(), 1e-15);
    assertEquals(List.of("1", "2", "3"), fieldNames(report.get("per_image")));
    assertEquals(7.5, report.get("per_image").get("2").get("CIDEr").doubleValue(), 1e-12);
    assertEquals(List.of("METEOR", "SPICE"), fieldNames(report.get("not_computed")));
    assertTrue(report.get("not_computed").get("METEOR").textValue().contains("meteor-1.5.jar"));
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** One line {@code mplug score caption: <file>: <problem>}, exit code 2 and no report. */
  private String failure(Result r) {
    assertEquals("", r.out());
    return assertOneLine(r, 2, "mplug score caption: ");
  }

  @Test
  void badResultsAreOneLineNamingTheFileAndTheItem() throws IOException {
    String results = tmp.resolve("results.json").toString();
    String prefix = "mplug score caption: " + results;
    String good = "{\"image_id\": 1, \"caption\": \"a dog\"}, {\"image_id\": 2, \"caption\": \"a dog\"}";
    assertEquals(prefix + ":1: image_id 4: not in the annotations",
        failure(score("[" + good + ", {\"image_id\": 3, \"caption\": \"a\"}, {\"image_id\": 4, \"caption\": \"a\"}]")));
    assertEquals(prefix + ": no result for image_id 3", failure(score("[" + good + "]")));
    assertEquals(prefix + ":1: image_id 1: a second result for this item (the first is at line 1)",
        failure(score("[" + good + ", {\"image_id\": \"1\", \"caption\": \"a\"}]")));
    String line = failure(score("[" + good + ", {\"image_id\": 3, \"caption\": 5}]"));
    assertTrue(line.startsWith(prefix + ":1: image_id 3: \"caption\" must be a string, got "), line);
    assertEquals(prefix + ":1: result 2 has no \"image_id\"", failure(score("[" + good + ", {\"caption\": \"a\"}]")));
    line = failure(score("[" + good + ", {\"image_id\": 3.5, \"caption\": \"a\"}]"));
    assertTrue(line.startsWith(prefix + ":1: result 2: \"image_id\" must be an integer or a string, got "), line);
    line = failure(score("[" + good + ",\n {\"image_id\": 3, \"caption\": \"a\"\n]"));
    assertTrue(line.startsWith(prefix + ":3:1: malformed JSON: "), line);
  }

  @Test
  void badReferencesAreOneLineNamingTheFile() throws IOException {
    Path refs = file("bad-refs.json", "{\"annotations\": [\n  {\"image_id\": 1, \"caption\": \"a\"},\n  {\"image_id\":"
        + " 2, \"caption\": [\"b\"]}]}");
    Path results = file("results.json", "[]");
    assertEquals("mplug score caption: " + refs + ": annotation 1 (image_id 2): caption [\"b\"] is not a string",
        failure(run("score", "caption", "--references", refs.toString(), "--results", results.toString())));
    Files.writeString(refs, "{\"annotations\": [\n  {\"image_id\": 1, \"caption\": \"a\"}\n  {\"image_id\": 2}]}");
    String line = failure(run("score", "caption", "--references", refs.toString(), "--results", results.toString()));
    assertTrue(line.startsWith("mplug score caption: " + refs + ": not valid JSON: "), line);
    assertTrue(line.contains(" at line 3, column "), line);
    Files.writeString(refs, "[]");
    assertTrue(failure(run("score", "caption", "--references", refs.toString(), "--results", results.toString()))
        .startsWith("mplug score caption: " + refs + ": no \"annotations\" list"));
    Path none = tmp.resolve("none.json");
    assertEquals("mplug score caption: --references " + none + " is not a file",
        failure(run("score", "caption", "--references", none.toString(), "--results", results.toString())));
  }
}
