package dev.mplug.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The results reader on its own (the CLI tests cover every bad file end to end). */
class ResultFileTest {
  @TempDir Path tmp;

  @Test
  void idsAreComparedAsTextAndValuesComeInFileOrder() throws IOException {
    Path f = Files.writeString(tmp.resolve("captions.json"), """
        [{"image_id": "42", "caption": "a red circle"},
         {"image_id": 7, "caption": "two squares"}]
        """);
    Map<String, String> captions = ResultFile.read(f, "image_id", List.of("7", "42"), e -> e.string("caption"));
    assertEquals(List.of("42", "7"), List.copyOf(captions.keySet()));
    assertEquals(Map.of("42", "a red circle", "7", "two squares"), captions);
  }

  @Test
  void leadingZerosMakeAnotherId() throws IOException {
    Path f = Files.writeString(tmp.resolve("r.json"), "[{\"image_id\": \"042\", \"caption\": \"x\"}]");
    assertEquals(f + ":1: image_id 042: not in the annotations", assertThrows(IllegalArgumentException.class,
        () -> ResultFile.read(f, "image_id", List.of("42"), e -> e.string("caption"))).getMessage());
  }

  @Test
  void numbersAreReadWithTheirArity() throws IOException {
    Path f = Files.writeString(tmp.resolve("r.json"), "[{\"ref_id\": 3, \"bbox\": [0, 0.5, 1, 1e-3]}]");
    Map<String, double[]> boxes = ResultFile.read(f, "ref_id", List.of("3"), e -> e.numbers("bbox", 4));
    assertArrayEquals(new double[] {0, 0.5, 1, 0.001}, boxes.get("3"));
  }

  @Test
  void theFirstAnnotatedItemWithoutAResultIsNamed() throws IOException {
    Path f = Files.writeString(tmp.resolve("r.json"), "[{\"ref_id\": 2, \"bbox\": [0, 0, 1, 1]}]");
    assertEquals(f + ": no result for ref_id 1 nor for 2 other annotated items",
        assertThrows(IllegalArgumentException.class,
            () -> ResultFile.read(f, "ref_id", List.of("1", "2", "3", "4"), e -> e.numbers("bbox", 4))).getMessage());
  }

  @Test
  void aTruncatedFileIsMalformedJsonAtItsEnd() throws IOException {
    Path f = Files.writeString(tmp.resolve("r.json"), "[{\"ref_id\": 2, \"bbox\": [0, 0, 1, 1]},\n");
    String message = assertThrows(IllegalArgumentException.class,
        () -> ResultFile.read(f, "ref_id", List.of("2"), e -> e.numbers("bbox", 4))).getMessage();
    assertTrue(message.startsWith(f + ":2:1: malformed JSON: Unexpected end-of-input"), message);
  }
}
