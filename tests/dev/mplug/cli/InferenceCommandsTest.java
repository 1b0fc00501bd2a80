package dev.mplug.cli;

import static dev.mplug.cli.CliErrorsTest.assertOneLine;
import static dev.mplug.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.api.ImageInput;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import dev.mplug.data.image.Images;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.testing.HeadCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mplug caption | vqa | retrieve | ground | entail | verify} on an untrained demo model saved beside a small shapes world (its
 * vocab.txt is found beside the checkpoint): each prints what the API returns, as text and as JSON; bad input is one
 * line and exit 2.
 */
class InferenceCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static Path world;
  static Path checkpoint;

  @BeforeAll
  static void checkpoint() throws Exception {
    world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 64));
    checkpoint = HeadCheckpoints.demo(world.resolve("demo.safetensors"), 4);
  }

  private static String image(int i) {
    return world.resolve(SynthFiles.image(i)).toString();
  }

  @Test
  void vqaAndCaptionPrintTheApisAnswers() throws Exception {
    String answer;
    try (MPlugModel vqa = MPlugModel.builder(checkpoint).task(Task.VQA).beamSize(3).build()) {
      answer = vqa.answer(ImageInput.of(Path.of(image(0))), "what shape is it?").text();
    }
    CliErrorsTest.Result r = run("vqa", image(0), "what shape is it?", "--checkpoint", checkpoint.toString(),
        "--beam", "3");
    assertEquals(0, r.code(), r.err());
    assertEquals(answer + "\n", r.out());
    r = run("vqa", image(0), "what shape is it?", "--checkpoint", checkpoint.toString(), "--beam", "3", "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(answer, JSON.readTree(r.out()).get("answer").asText());

    r = run("caption", image(0), image(1), "--checkpoint", checkpoint.toString(), "--max-length", "6", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode captions = JSON.readTree(r.out());
    assertEquals(2, captions.size());
    assertEquals(image(1), captions.get(1).get("image").asText());
    try (MPlugModel c = MPlugModel.builder(checkpoint).task(Task.CAPTION).maxLength(6).build()) {
      assertEquals(c.caption(ImageInput.of(Path.of(image(1)))).text(), captions.get(1).get("caption").asText());
    }
  }

  @Test
  void retrieveRanksTheFilesTextsForEachImageOfTheFolder() throws Exception {
    Path images = Files.createDirectories(dir.resolve("retrieve"));
    Files.copy(Path.of(image(0)), images.resolve("a.jpg"));
    Files.copy(Path.of(image(1)), images.resolve("b.jpg"));
    Files.writeString(images.resolve("notes.txt"), "not an image");
    Path texts = Files.writeString(dir.resolve("texts.txt"), "a red circle\n\na blue square\na small green star\n");
    CliErrorsTest.Result r = run("retrieve", "--images", images.toString(), "--texts", texts.toString(), "--top", "2",
        "--checkpoint", checkpoint.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode rows = JSON.readTree(r.out());
    assertEquals(2, rows.size(), "the two images, not notes.txt");
    assertEquals(images.resolve("a.jpg").toString(), rows.get(0).get("image").asText());
    assertEquals(2, rows.get(0).get("texts").size());
    try (MPlugModel m = MPlugModel.builder(checkpoint).task(Task.RETRIEVAL).build()) {
      var best = m.retrieve(ImageInput.of(images.resolve("b.jpg")), List.of("a red circle", "a blue square",
          "a small green star"));
      JsonNode first = rows.get(1).get("texts").get(0);
      assertEquals(best.get(0).index(), first.get("index").asInt());
      assertEquals(List.of("a red circle", "a blue square", "a small green star").get(best.get(0).index()),
          first.get("text").asText());
    }
  }

  @Test
  void groundPrintsTheBoxAndDrawsIt() throws Exception {
    Path out = dir.resolve("drawn.png");
    CliErrorsTest.Result r = run("ground", image(2), "the red circle", "--checkpoint", checkpoint.toString(),
        "--out", out.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode o = JSON.readTree(r.out());
    assertEquals(4, o.get("box").size());
    assertEquals(out.toString(), o.get("drawn").asText());
    byte[] plain;
    try (Mat original = Images.read(Path.of(image(2))); Mat drawn = Images.read(out)) {
      assertEquals(o.get("width").asInt(), drawn.cols());
      assertEquals(o.get("height").asInt(), drawn.rows());
      assertEquals(original.cols(), drawn.cols());
      plain = Images.toPng(original);
    }
    assertTrue(!Arrays.equals(Files.readAllBytes(out), plain), "the copy has the box drawn");
  }

  @Test
  void entailAndVerifyPrintALabelOfTheirClassesWithItsProbability() throws Exception {
    assertEquals("mplug entail: --checkpoint " + checkpoint + " lacks 4 parameters of this task's model, e.g. "
        + "cls_head.0.weight", assertOneLine(run("entail", image(0), "a circle", "--checkpoint", checkpoint.toString()),
        2, "mplug entail: "), "a checkpoint without the classifier is refused");
    Path ve = HeadCheckpoints.save("snli-ve", world.resolve("ve.safetensors"), 5);
    Path nlvr2 = HeadCheckpoints.save("nlvr2", world.resolve("nlvr2.safetensors"), 6);
    CliErrorsTest.Result r = run("entail", image(0), "there is a red circle", "--checkpoint", ve.toString(),
        "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode verdict = JSON.readTree(r.out());
    assertEquals("there is a red circle", verdict.get("hypothesis").asText());
    assertTrue(List.of("contradiction", "neutral", "entailment").contains(verdict.get("label").asText()), r.out());
    assertEquals(List.of("contradiction", "neutral", "entailment"),
        iterable(verdict.get("probabilities").fieldNames()));
    r = run("verify", image(0), image(1), "the left image has more shapes", "--checkpoint", nlvr2.toString());
    assertEquals(0, r.code(), r.err());
    String[] words = r.out().strip().split(" ");
    assertTrue(words.length == 2 && List.of("True", "False").contains(words[0]), r.out());
    double p = Double.parseDouble(words[1]);
    assertTrue(p >= 0.5 && p <= 1, r.out());
    assertEquals("mplug verify: STATEMENT is empty", assertOneLine(run("verify", image(0), image(1), " ",
        "--checkpoint", nlvr2.toString()), 2, "mplug verify: "));
    assertEquals("mplug verify: right image " + dir.resolve("none.png") + " does not exist", assertOneLine(
        run("verify", image(0), dir.resolve("none.png").toString(), "two stars", "--checkpoint", nlvr2.toString()),
        2, "mplug verify: "));
  }

  private static List<String> iterable(Iterator<String> names) {
    List<String> out = new ArrayList<>();
    names.forEachRemaining(out::add);
    return out;
  }

  @Test
  void badInputIsOneLine() throws Exception {
    assertEquals("mplug vqa: image " + dir.resolve("none.jpg") + " does not exist", assertOneLine(run("vqa",
        dir.resolve("none.jpg").toString(), "what?", "--checkpoint", checkpoint.toString()), 2, "mplug vqa: "));
    Path text = Files.writeString(dir.resolve("fake.jpg"), "hello");
    String line = assertOneLine(run("caption", text.toString(), "--checkpoint", checkpoint.toString()), 2,
        "mplug caption: ");
    assertTrue(line.startsWith("mplug caption: " + text + ": "), line);
    line = assertOneLine(run("ground", image(0), "the circle", "--checkpoint", dir.resolve("none").toString()), 2,
        "mplug ground: ");
    assertEquals("mplug ground: checkpoint " + dir.resolve("none") + " does not exist", line);
    line = assertOneLine(run("vqa", image(0), "what?", "--checkpoint", checkpoint.toString(), "--precision", "fp8"),
        2, "mplug vqa: ");
    assertEquals("mplug vqa: --precision fp8 is not fp32 or bf16", line);
    line = assertOneLine(run("serve", "--checkpoint", checkpoint.toString(), "--port", "70000"), 2, "mplug serve: ");
    assertEquals("mplug serve: --port must be in 0..65535, got 70000", line);
    line = assertOneLine(run("retrieve", "--images", world.toString(), "--texts", text.toString(), "--checkpoint",
        checkpoint.toString()), 2, "mplug retrieve: ");
    assertEquals("mplug retrieve: --images " + world + " holds no [.jpg, .jpeg, .png, .webp, .bmp] files", line);
  }
}
