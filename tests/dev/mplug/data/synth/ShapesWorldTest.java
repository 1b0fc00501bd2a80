package dev.mplug.data.synth;

import static dev.mplug.data.text.TextCleaning.preCaption;
import static dev.mplug.data.text.TextCleaning.preQuestion;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.Box;
import dev.mplug.data.image.Images;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.video.VideoFrames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShapesWorldTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final ShapesWorld.Config CONFIG = new ShapesWorld.Config(30, 4, 3, 64, 0.2, 8);

  @TempDir static Path root;

  @BeforeAll
  static void generate() {
    ShapesWorld.Summary s = ShapesWorld.generate(root, CONFIG);
    assertEquals(24, s.trainImages());
    assertEquals(6, s.testImages());
  }

  static JsonNode read(String file) throws IOException {
    return JSON.readTree(root.resolve(file).toFile());
  }

  static List<JsonNode> readLines(String file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(root.resolve(file))) out.add(JSON.readTree(line));
    return out;
  }

  static Set<String> keys(JsonNode n) {
    Set<String> k = new TreeSet<>();
    n.fieldNames().forEachRemaining(k::add);
    return k;
  }

  static int index(String imagePath) {
    return Integer.parseInt(imagePath.substring(imagePath.lastIndexOf('/') + 1, imagePath.lastIndexOf('.')));
  }

  static void assertImageFile(JsonNode entry) {
    assertTrue(entry.get("image").isTextual(), entry.toString());
    assertTrue(Files.isRegularFile(root.resolve(entry.get("image").asText())), entry.toString());
  }

  static void assertStringList(JsonNode n) {
    assertTrue(n.isArray() && !n.isEmpty(), String.valueOf(n));
    n.forEach(x -> assertTrue(x.isTextual() && !x.asText().isBlank(), String.valueOf(n)));
  }

  @Test
  void imageAnnotationsHaveTheContractFormats() throws IOException {
    JsonNode pretrain = read(SynthFiles.PRETRAIN);
    assertEquals(24, pretrain.size());
    for (JsonNode e : pretrain) {
      assertEquals(Set.of("image", "caption"), keys(e));
      assertImageFile(e);
      assertStringList(e.get("caption"));
    }
    JsonNode capTrain = read(SynthFiles.CAPTION_TRAIN);
    assertEquals(24 * 3, capTrain.size(), "one entry per caption");
    for (JsonNode e : capTrain) {
      assertEquals(Set.of("image", "caption", "image_id"), keys(e));
      assertTrue(e.get("caption").isTextual() && e.get("image_id").isTextual());
      assertEquals(index(e.get("image").asText()), Integer.parseInt(e.get("image_id").asText()));
    }
    JsonNode capTest = read(SynthFiles.CAPTION_TEST);
    assertEquals(6, capTest.size());
    for (JsonNode e : capTest) {
      assertEquals(Set.of("image", "caption", "image_id"), keys(e));
      assertStringList(e.get("caption"));
      assertTrue(index(e.get("image").asText()) >= 24, "test images are the last ones");
    }
    for (JsonNode e : read(SynthFiles.RETRIEVAL_TRAIN)) assertEquals(Set.of("image", "caption", "image_id"), keys(e));
    JsonNode retTest = read(SynthFiles.RETRIEVAL_TEST);
    assertEquals(6, retTest.size());
    for (JsonNode e : retTest) {
      assertEquals(Set.of("image", "caption"), keys(e));
      assertStringList(e.get("caption"));
    }

    Set<Long> ids = new HashSet<>();
    for (JsonNode e : read(SynthFiles.VQA_TRAIN)) {
      assertEquals(Set.of("question_id", "question", "answer", "image", "dataset"), keys(e));
      assertTrue(e.get("question_id").isIntegralNumber());
      assertTrue(ids.add(e.get("question_id").asLong()), "unique question ids");
      assertStringList(e.get("answer"));
      assertEquals("vqa", e.get("dataset").asText());
      assertImageFile(e);
    }
    JsonNode vqaTest = read(SynthFiles.VQA_TEST);
    JsonNode vqaVal = read(SynthFiles.VQA_VAL);
    assertEquals(vqaTest.size(), vqaVal.size());
    for (int i = 0; i < vqaTest.size(); i++) {
      assertEquals(Set.of("question_id", "question", "image", "dataset"), keys(vqaTest.get(i)), "no answer in test");
      assertEquals(vqaTest.get(i).get("question_id"), vqaVal.get(i).get("question_id"));
      assertStringList(vqaVal.get(i).get("answer"));
    }

    Set<Integer> refIds = new HashSet<>();
    for (String file : new String[] {SynthFiles.GROUNDING, SynthFiles.GROUNDING_TEST}) {
      for (JsonNode e : read(file)) {
        assertEquals(Set.of("image", "text", "bbox", "ref_id"), keys(e));
        assertTrue(refIds.add(e.get("ref_id").asInt()));
        JsonNode b = e.get("bbox");
        assertEquals(4, b.size());
        b.forEach(v -> assertTrue(v.isInt(), "integer pixels"));
        int x = b.get(0).asInt();
        int y = b.get(1).asInt();
        int w = b.get(2).asInt();
        int h = b.get(3).asInt();
        assertTrue(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 64 && y + h <= 64, "box inside the image " + b);
      }
    }
  }

  @Test
  void groundingBoxesSitOnTheNamedShape() throws IOException {
    for (JsonNode e : read(SynthFiles.GROUNDING)) {
      JsonNode b = e.get("bbox");
      Box box = Box.ofXywh(b.get(0).asInt(), b.get(1).asInt(), b.get(2).asInt(), b.get(3).asInt());
      String text = e.get("text").asText();
      try (Mat img = Images.read(root.resolve(e.get("image").asText()))) {
        int cx = (int) ((box.x1() + box.x2()) / 2);
        int cy = (int) ((box.y1() + box.y2()) / 2);
        int[] p = pixel(img, cx, cy);
        Vocabulary.Colour nearest = nearestColour(p);
        assertTrue(distance(p, nearest) < 60, "box centre is a shape colour: " + Arrays.toString(p));
        for (Vocabulary.Colour c : Vocabulary.Colour.values()) {
          if (text.contains(c.word())) assertEquals(c, nearest, "'" + text + "' at " + box);
        }
      }
    }
  }

  @Test
  void vocabularyHoldsEveryWordOfTheCleanedTextsWhole() throws IOException {
    BertTokenizer tok = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
    assertEquals(101, tok.vocabulary().clsId());
    assertEquals(102, tok.vocabulary().sepId());
    assertEquals(103, tok.vocabulary().maskId());
    List<String> texts = new ArrayList<>();
    for (JsonNode e : read(SynthFiles.PRETRAIN)) e.get("caption").forEach(c -> texts.add(preCaption(c.asText(), 30)));
    for (JsonNode e : read(SynthFiles.CAPTION_TEST)) {
      e.get("caption").forEach(c -> texts.add(preCaption(c.asText(), 30)));
    }
    for (JsonNode e : read(SynthFiles.VQA_TRAIN)) {
      texts.add(preQuestion(e.get("question").asText(), 30));
      texts.add(e.get("answer").get(0).asText());
    }
    for (JsonNode e : read(SynthFiles.GROUNDING_TEST)) texts.add(e.get("text").asText());
    for (JsonNode e : readLines(SynthFiles.VIDEO_QA)) texts.add(preQuestion(e.get("question").asText(), 30));
    assertTrue(texts.size() > 150, "texts: " + texts.size());
    for (String t : texts) {
      int[] ids = tok.tokenIds(t);
      assertEquals(t.split(" ").length, ids.length, "one piece per word: '" + t + "'");
      assertEquals(t, tok.decode(ids));
    }
    assertEquals(tok.vocabulary().size(), read(SynthFiles.MANIFEST).get("counts").get("vocabulary").asInt());
  }

  @Test
  void boxesAreTightAroundThePaintedPixels() {
    for (int i = 0; i < 10; i++) {
      Scene scene = ShapesWorld.scene(CONFIG, i);
      try (Mat img = Renderer.render(scene)) {
        for (Figure f : scene.figures()) {
          Box b = f.box();
          int x1 = (int) b.x1();
          int y1 = (int) b.y1();
          int x2 = (int) b.x2() - 1;
          int y2 = (int) b.y2() - 1;
          int[] rgb = {f.colour().r, f.colour().g, f.colour().b};
          assertTrue(rowHas(img, y1, x1, x2, rgb) && rowHas(img, y2, x1, x2, rgb), f + " touches top and bottom");
          assertTrue(colHas(img, x1, y1, y2, rgb) && colHas(img, x2, y1, y2, rgb), f + " touches left and right");
          assertFalse(rowHas(img, y1 - 1, x1, x2, rgb) || rowHas(img, y2 + 1, x1, x2, rgb), f + " nothing above/below");
          assertFalse(colHas(img, x1 - 1, y1, y2, rgb) || colHas(img, x2 + 1, y1, y2, rgb), f + " nothing beside");
        }
      }
    }
  }

  @Test
  void answersAgreeWithThePixels() throws IOException {
    int checked = 0;
    for (JsonNode e : read(SynthFiles.VQA_TRAIN)) {
      String q = e.get("question").asText();
      String answer = e.get("answer").get(0).asText();
      int i = index(e.get("image").asText());
      Scene scene = ShapesWorld.scene(CONFIG, i);
      if (q.equals("how many shapes are there?")) {
        // counted independently: blobs of saturated pixels in the JPEG actually written
        try (Mat img = Images.read(root.resolve(e.get("image").asText()))) {
          assertEquals(Integer.parseInt(answer), colourBlobs(img), "image " + i);
        }
        assertEquals(Integer.parseInt(answer), scene.figures().size());
        checked++;
      } else if (q.startsWith("what color is the ")) {
        String shape = q.substring("what color is the ".length(), q.length() - 1);
        List<Figure> matches = scene.figures().stream().filter(f -> f.shape().word().equals(shape)).toList();
        assertEquals(1, matches.size(), q);
        assertEquals(matches.getFirst().colour().word(), answer, q);
        checked++;
      } else if (q.startsWith("is there ")) {
        String name = q.substring(q.indexOf(' ', "is there ".length()) + 1, q.length() - 1);
        boolean present = scene.figures().stream().anyMatch(f -> f.name().equals(name));
        assertEquals(present ? "yes" : "no", answer, q + " in image " + i);
        checked++;
      } else if (q.startsWith("how many ") && q.endsWith(" shapes are there?")) {
        String colour = q.substring("how many ".length(), q.indexOf(" shapes"));
        long n = scene.figures().stream().filter(f -> f.colour().word().equals(colour)).count();
        assertEquals(Long.toString(n), answer, q);
        checked++;
      }
    }
    assertTrue(checked > 60, "checked " + checked + " answers");
  }

  @Test
  void theLastClipsAreTheTestSplitAndTheirWordsComeAfterTheImages(@TempDir Path noClips) throws IOException {
    assertEquals(1, CONFIG.testVideos());
    for (String[] files : List.of(new String[] {SynthFiles.VIDEO_CAPTION, SynthFiles.VIDEO_CAPTION_TRAIN,
        SynthFiles.VIDEO_CAPTION_TEST}, new String[] {SynthFiles.VIDEO_QA, SynthFiles.VIDEO_QA_TRAIN,
        SynthFiles.VIDEO_QA_TEST})) {
      List<JsonNode> split = new ArrayList<>(readLines(files[1]));
      List<JsonNode> test = readLines(files[2]);
      assertFalse(test.isEmpty(), files[2]);
      for (JsonNode e : test) assertEquals("videos/000003.avi", e.get("video").asText(), files[2]);
      split.addAll(test);
      assertEquals(readLines(files[0]), split, "train then test is the whole file " + files[0]);
    }
    // the same world without clips: every image text reads the same ids, the clips' words come after them
    ShapesWorld.generate(noClips, new ShapesWorld.Config(30, 0, 3, 64, 0.2, 8));
    BertTokenizer images = BertTokenizer.load(noClips.resolve(SynthFiles.VOCAB));
    BertTokenizer withClips = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
    int captions = 0;
    for (JsonNode entry : read(SynthFiles.PRETRAIN)) {
      for (JsonNode c : entry.get("caption")) {
        assertArrayEquals(images.tokenIds(c.asText()), withClips.tokenIds(c.asText()), c.asText());
        captions++;
      }
    }
    assertTrue(captions >= 60, captions + " captions");
    int unk = withClips.vocabulary().unkId();
    assertTrue(Arrays.stream(withClips.tokenIds(ClipText.CAPTION_PROMPT)).noneMatch(id -> id == unk),
        "the VATEX prompt's words are in a world with clips");
    assertTrue(Arrays.stream(images.tokenIds("moving")).allMatch(id -> id == unk), "clip words only with clips");
  }

  @Test
  void videosMoveTheWayTheirAnswersSay() throws IOException {
    List<JsonNode> captions = readLines(SynthFiles.VIDEO_CAPTION);
    assertEquals(4, captions.size());
    for (JsonNode c : captions) {
      assertEquals(Set.of("video", "caption"), keys(c));
      assertStringList(c.get("caption"));
      assertTrue(Files.isRegularFile(root.resolve(c.get("video").asText())));
    }
    int checked = 0;
    for (JsonNode qa : readLines(SynthFiles.VIDEO_QA)) {
      assertEquals(Set.of("video", "question", "answer"), keys(qa));
      String q = qa.get("question").asText();
      if (!q.startsWith("which direction does the ")) continue;
      String name = q.substring("which direction does the ".length(), q.length() - " move?".length());
      Vocabulary.Colour colour = Vocabulary.Colour.valueOf(name.split(" ")[0].toUpperCase(Locale.ROOT));
      List<Mat> frames = VideoFrames.sample(root.resolve(qa.get("video").asText()), CONFIG.videoFrames());
      double[] first = centroid(frames.getFirst(), colour);
      double[] last = centroid(frames.getLast(), colour);
      frames.forEach(Mat::close);
      double dx = last[0] - first[0];
      double dy = last[1] - first[1];
      String seen = Math.abs(dx) > Math.abs(dy) ? (dx > 0 ? "right" : "left") : (dy > 0 ? "down" : "up");
      assertEquals(seen, qa.get("answer").asText(), q + " (moved " + dx + ", " + dy + ")");
      assertTrue(Math.hypot(dx, dy) > 0.25 * 64, "moved about 0.35 of the frame: " + Math.hypot(dx, dy));
      checked++;
    }
    assertEquals(4, checked, "one direction question per clip");
  }

  @Test
  void sameSeedSameBytesOtherSeedOtherWorld(@TempDir Path a, @TempDir Path b, @TempDir Path c) throws IOException {
    ShapesWorld.Config small = new ShapesWorld.Config(6, 1, 9, 48, 0.2, 4);
    ShapesWorld.generate(a, small);
    ShapesWorld.generate(b, small);
    ShapesWorld.generate(c, new ShapesWorld.Config(6, 1, 10, 48, 0.2, 4));
    List<Path> files = listFiles(a);
    assertEquals(listFiles(a).size(), listFiles(b).size());
    assertTrue(files.size() >= 6 + 1 + 12, files.toString());
    for (Path f : files) {
      assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f + " identical");
    }
    assertNotEquals(Files.readString(a.resolve(SynthFiles.PRETRAIN)), Files.readString(c.resolve(SynthFiles.PRETRAIN)));
  }

  @Test
  void ensureReusesAMatchingWorldAndRegeneratesOtherwise(@TempDir Path dir) throws IOException {
    ShapesWorld.Config small = new ShapesWorld.Config(4, 0, 1, 32, 0.25, 2);
    ShapesWorld.Summary first = ShapesWorld.ensure(dir, small);
    Path img = dir.resolve(SynthFiles.image(0));
    Files.writeString(img, "marker"); // would be overwritten by a regeneration
    ShapesWorld.Summary again = ShapesWorld.ensure(dir, small);
    assertEquals(first, again);
    assertEquals("marker", Files.readString(img), "nothing regenerated");
    ShapesWorld.ensure(dir, new ShapesWorld.Config(4, 0, 2, 32, 0.25, 2));
    assertNotEquals("marker", new String(Files.readAllBytes(img), StandardCharsets.ISO_8859_1));
  }

  @Test
  void ensureRegeneratesAWorldWrittenByAnotherGeneratorVersion(@TempDir Path dir) throws IOException {
    ShapesWorld.Config small = new ShapesWorld.Config(4, 0, 1, 32, 0.25, 2);
    ShapesWorld.ensure(dir, small);
    Path manifest = dir.resolve(SynthFiles.MANIFEST);
    String text = Files.readString(manifest);
    assertTrue(text.contains("\"format\":" + ShapesWorld.FORMAT), text);
    Path img = dir.resolve(SynthFiles.image(0));
    Files.writeString(img, "marker");
    // a manifest from before the format was recorded (the same config, an older vocabulary layout)
    Files.writeString(manifest, text.replace("\"format\":" + ShapesWorld.FORMAT + ",", ""));
    ShapesWorld.ensure(dir, small);
    assertNotEquals("marker", new String(Files.readAllBytes(img), StandardCharsets.ISO_8859_1));
    assertTrue(Files.readString(manifest).contains("\"format\":" + ShapesWorld.FORMAT));
  }

  // ---- pixel helpers (independent of the generator's own model of the scene) ----

  static int[] pixel(Mat m, int x, int y) {
    var p = m.ptr(y, x);
    return new int[] {p.get(0) & 0xFF, p.get(1) & 0xFF, p.get(2) & 0xFF};
  }

  static Vocabulary.Colour nearestColour(int[] p) {
    Vocabulary.Colour best = null;
    for (Vocabulary.Colour c : Vocabulary.Colour.values()) {
      if (best == null || distance(p, c) < distance(p, best)) best = c;
    }
    return best;
  }

  static double distance(int[] p, Vocabulary.Colour c) {
    return Math.sqrt(Math.pow(p[0] - c.r, 2) + Math.pow(p[1] - c.g, 2) + Math.pow(p[2] - c.b, 2));
  }

  static boolean rowHas(Mat m, int y, int x1, int x2, int[] rgb) {
    if (y < 0 || y >= m.rows()) return false;
    for (int x = Math.max(0, x1); x <= Math.min(m.cols() - 1, x2); x++) {
      if (Arrays.equals(pixel(m, x, y), rgb)) return true;
    }
    return false;
  }

  static boolean colHas(Mat m, int x, int y1, int y2, int[] rgb) {
    if (x < 0 || x >= m.cols()) return false;
    for (int y = Math.max(0, y1); y <= Math.min(m.rows() - 1, y2); y++) {
      if (Arrays.equals(pixel(m, x, y), rgb)) return true;
    }
    return false;
  }

  /** Pixels whose channels spread by more than 70 (the backgrounds are grey, noise spreads <= 48). */
  static boolean[][] saturated(Mat m) {
    boolean[][] s = new boolean[m.rows()][m.cols()];
    for (int y = 0; y < m.rows(); y++) {
      for (int x = 0; x < m.cols(); x++) {
        int[] p = pixel(m, x, y);
        s[y][x] = Math.max(p[0], Math.max(p[1], p[2])) - Math.min(p[0], Math.min(p[1], p[2])) > 70;
      }
    }
    return s;
  }

  /** 4-connected blobs of saturated pixels with at least 6 pixels. */
  static int colourBlobs(Mat m) {
    boolean[][] s = saturated(m);
    int blobs = 0;
    for (int y = 0; y < s.length; y++) {
      for (int x = 0; x < s[0].length; x++) {
        if (!s[y][x]) continue;
        int area = 0;
        ArrayDeque<int[]> stack = new ArrayDeque<>();
        stack.push(new int[] {x, y});
        s[y][x] = false;
        while (!stack.isEmpty()) {
          int[] p = stack.pop();
          area++;
          int[][] next = {{p[0] + 1, p[1]}, {p[0] - 1, p[1]}, {p[0], p[1] + 1}, {p[0], p[1] - 1}};
          for (int[] q : next) {
            if (q[0] >= 0 && q[1] >= 0 && q[1] < s.length && q[0] < s[0].length && s[q[1]][q[0]]) {
              s[q[1]][q[0]] = false;
              stack.push(q);
            }
          }
        }
        if (area >= 6) blobs++;
      }
    }
    return blobs;
  }

  /** Mean position of the pixels within 60 of {@code colour}. */
  static double[] centroid(Mat m, Vocabulary.Colour colour) {
    double sx = 0;
    double sy = 0;
    int n = 0;
    for (int y = 0; y < m.rows(); y++) {
      for (int x = 0; x < m.cols(); x++) {
        if (distance(pixel(m, x, y), colour) < 60) {
          sx += x;
          sy += y;
          n++;
        }
      }
    }
    assertTrue(n > 4, "the " + colour + " shape is visible");
    return new double[] {sx / n, sy / n};
  }

  static List<Path> listFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> out = new ArrayList<>();
      for (Iterator<Path> it = s.filter(Files::isRegularFile).iterator(); it.hasNext(); ) {
        out.add(dir.relativize(it.next()));
      }
      out.sort(null);
      return out;
    }
  }
}
