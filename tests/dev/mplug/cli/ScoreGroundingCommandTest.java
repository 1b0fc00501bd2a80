package dev.mplug.cli;

import static dev.mplug.cli.CliErrorsTest.assertOneLine;
import static dev.mplug.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mplug score grounding} end to end: annotated pixel boxes normalised by the sizes read from the images,
 * results in normalised xyxy, values worked out in the comments; bad boxes are one line naming the file and ref_id.
 */
class ScoreGroundingCommandTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;
  Path annotations;

  @BeforeEach
  void files() throws IOException {
    Files.createDirectories(tmp.resolve("images"));
    ImageIO.write(new BufferedImage(100, 50, BufferedImage.TYPE_INT_RGB), "png", tmp.resolve("images/a.png").toFile());
    ImageIO.write(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "png", tmp.resolve("images/b.png").toFile());
    // normalised: ref 1 [10, 5, 50, 25] / (100, 50) = [0.1, 0.1, 0.5, 0.5]; ref 2 [0.5, 0, 1, 1]; ref 3 [0, 0, 0.5, 1]
    annotations = Files.writeString(tmp.resolve("refs.json"), """
        [{"image": "images/a.png", "text": "the left one", "bbox": [10, 5, 40, 20], "ref_id": 1},
         {"image": "images/a.png", "text": "the right half", "bbox": [50, 0, 50, 50], "ref_id": 2},
         {"image": "images/b.png", "text": "the left half", "bbox": [0, 0, 32, 64], "ref_id": 3}]
        """);
  }

  CliErrorsTest.Result score(String results, String... more) throws IOException {
    Path r = Files.writeString(tmp.resolve("res.json"), results);
    String[] args = {"score", "grounding", "--annotations", annotations.toString(), "--results", r.toString()};
    String[] all = new String[args.length + more.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return run(all);
  }

  @Test
  void accuracyAtIouOneHalfWithClampedPredictions() throws IOException {
    CliErrorsTest.Result r = score("""
        [{"ref_id": 1, "bbox": [0.1, 0.1, 0.5, 0.5]},
         {"ref_id": "2", "bbox": [0.5, -0.5, 1.5, 1]},
         {"ref_id": 3, "bbox": [0, 0, 0.25, 0.5]}]
        """);
    assertEquals(0, r.code(), r.err());
    // ref 1: the same box: 1. ref 2: clamped to [0.5, 0, 1, 1], the same box: 1.
    // ref 3: inter 0.25 x 0.5 = 0.125, union 0.5 + 0.125 - 0.125 = 0.5: 0.25, below 0.5. Accuracy 2 / 3.
    assertEquals("{\"accuracy\":0.6666666666666666,\"count\":3,\"per_item\":{\"1\":1.0,\"2\":1.0,\"3\":0.25}}",
        JSON.readTree(r.out()).toString());
  }

  @Test
  void imagesMayLiveElsewhere() throws IOException {
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    annotations = Files.move(annotations, elsewhere.resolve("refs.json"));
    String results = "[{\"ref_id\": 1, \"bbox\": [0.1, 0.1, 0.5, 0.5]}, {\"ref_id\": 2, \"bbox\": [0, 0, 0.5, 1]},"
        + " {\"ref_id\": 3, \"bbox\": [0, 0, 0.5, 1]}]";
    String line = assertOneLine(score(results), 2, "mplug score grounding: " + annotations + ":1: image ");
    assertTrue(line.endsWith("a.png does not exist (its size is needed to normalise the box)"), line);
    CliErrorsTest.Result r = score(results, "--images", tmp.toString());
    assertEquals(0, r.code(), r.err());
    // ref 2 predicted as the left half of the right half's image: they only touch, IoU 0
    assertEquals("{\"accuracy\":0.6666666666666666,\"count\":3,\"per_item\":{\"1\":1.0,\"2\":0.0,\"3\":1.0}}",
        JSON.readTree(r.out()).toString());
  }

  void refused(String results, String expected) throws IOException {
    CliErrorsTest.Result r = score(results);
    String line = assertOneLine(r, 2, "mplug score grounding: " + tmp.resolve("res.json"));
    assertTrue(line.contains(expected), line);
    assertEquals("", r.out());
  }

  @Test
  void badBoxesAreOneLineNamingFileAndRefId() throws IOException {
    String ok = "{\"ref_id\": 2, \"bbox\": [0, 0, 1, 1]}, {\"ref_id\": 3, \"bbox\": [0, 0, 1, 1]}";
    refused("[{\"ref_id\": 1, \"bbox\": [0, 0, 1]}, " + ok + "]",
        ":1: ref_id 1: \"bbox\" must be a list of 4 numbers, got 3 (wrong arity)");
    refused("[{\"ref_id\": 1, \"bbox\": [0, 0, 1, \"1\"]}, " + ok + "]",
        ":1: ref_id 1: \"bbox\" element 3 must be a number, got a string (\"1\")");
    refused("[{\"ref_id\": 1, \"bbox\": \"0 0 1 1\"}, " + ok + "]",
        ":1: ref_id 1: \"bbox\" must be a list of 4 numbers, got a string (\"0 0 1 1\")");
    refused("[{\"ref_id\": 1, \"bbox\": [0.5, 0, 0.4, 1]}, " + ok + "]",
        ":1: ref_id 1: \"bbox\": box corners out of order: [0.5, 0.0, 0.4, 1.0] needs x1 <= x2 and y1 <= y2");
    refused("[{\"ref_id\": 1, \"bbox\": [0, 0, 1e999, 1]}, " + ok + "]",
        ":1: ref_id 1: \"bbox\": box coordinates must be finite");
    refused("[" + ok + "]", ": no result for ref_id 1");
  }

  @Test
  void perfectPredictionsOnTheShapesWorldScoreOne() throws IOException {
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 1, 32));
    Path refs = world.resolve(SynthFiles.GROUNDING_TEST);
    ArrayNode results = JSON.createArrayNode();
    for (JsonNode ref : JSON.readTree(refs.toFile())) {
      // the world's images are 32 x 32: [x, y, w, h] in pixels -> [x, y, x + w, y + h] / 32
      double x = ref.get("bbox").get(0).asDouble();
      double y = ref.get("bbox").get(1).asDouble();
      double w = ref.get("bbox").get(2).asDouble();
      double h = ref.get("bbox").get(3).asDouble();
      ObjectNode r = results.addObject().put("ref_id", ref.get("ref_id").asLong());
      r.putArray("bbox").add(x / 32).add(y / 32).add((x + w) / 32).add((y + h) / 32);
    }
    Path res = Files.writeString(tmp.resolve("world-res.json"), results.toString());
    CliErrorsTest.Result r = run("score", "grounding", "--annotations", refs.toString(), "--results", res.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode report = JSON.readTree(r.out());
    assertTrue(results.size() > 0);
    assertEquals(results.size(), report.get("count").asInt());
    assertEquals(1.0, report.get("accuracy").asDouble());
  }
}
