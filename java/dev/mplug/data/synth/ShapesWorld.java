package dev.mplug.data.synth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.Box;
import dev.mplug.data.image.Images;
import dev.mplug.data.synth.SceneText.Expression;
import dev.mplug.data.synth.SceneText.Question;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.VocabularyBuilder;
import dev.mplug.data.video.VideoFrames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * The synthetic "shapes world": pictures of coloured shapes with captions, VQA questions, referring expressions and
 * retrieval pairs, and short videos of moving shapes with captions and questions, written as JPEG / Motion-JPEG AVI
 * files plus annotation files in the official formats ({@link SynthFiles} names them). The default dataset of the
 * main job and of the learning tests.
 *
 * <pre>{@code
 * ShapesWorld.Summary s = ShapesWorld.ensure(Path.of("data/shapes"), ShapesWorld.Config.of(2000, 100, 0, 128));
 * }</pre>
 *
 * Everything is a function of the config: image i (and video i) draws from its own generator seeded by
 * (seed, i), so the same config writes byte-identical files, and one image can be regenerated alone
 * ({@link #scene}, {@link #clip}). The last {@code testImages()} images form the test split.
 */
public final class ShapesWorld {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int JPEG_QUALITY = 95;
  private static final double VIDEO_FPS = 8;
  private static final long IMAGE_STREAM = 1;
  private static final long VIDEO_STREAM = 2;

  private ShapesWorld() {}

  /**
   * What to generate: {@code images} pictures (at least 2: one for test), {@code videos} clips, square side
   * {@code resolution} pixels (32..1024), the share of images held out for test, frames per clip.
   */
  public record Config(int images, int videos, long seed, int resolution, double testFraction, int videoFrames) {
    public Config {
      if (images < 2) throw new IllegalArgumentException("images must be >= 2 (train and test), got " + images);
      if (videos < 0) throw new IllegalArgumentException("videos must be >= 0, got " + videos);
      if (resolution < 32 || resolution > 1024) {
        throw new IllegalArgumentException("resolution must be 32..1024 pixels, got " + resolution);
      }
      if (!(testFraction > 0 && testFraction <= 0.5)) {
        throw new IllegalArgumentException("testFraction must be in (0, 0.5], got " + testFraction);
      }
      if (videoFrames < 2 || videoFrames > 256) {
        throw new IllegalArgumentException("videoFrames must be 2..256, got " + videoFrames);
      }
    }

    /** 10% of the images for test, 16 frames per clip. */
    public static Config of(int images, int videos, long seed, int resolution) {
      return new Config(images, videos, seed, resolution, 0.1, 16);
    }

    public int testImages() {
      return Math.max(1, (int) Math.round(images * testFraction));
    }

    public int trainImages() {
      return images - testImages();
    }
  }

  /** What a generation wrote. */
  public record Summary(Path root, Config config, int trainImages, int testImages, int videos, int captions,
      int questions, int expressions, int videoQuestions, int vocabulary) {}

  /** The scene of image {@code index} under {@code config}. */
  public static Scene scene(Config config, int index) {
    return Scenes.sample(imageRng(config, index), config.resolution());
  }

  /** The clip of video {@code index} under {@code config}. */
  public static Clip clip(Config config, int index) {
    return Clip.sample(videoRng(config, index), config.resolution(), config.videoFrames());
  }

  /** Generates unless {@code root} already holds a complete world made from the same config. */
  public static Summary ensure(Path root, Config config) {
    Path manifest = root.resolve(SynthFiles.MANIFEST);
    if (Files.isRegularFile(manifest) && Files.isRegularFile(root.resolve(SynthFiles.VOCAB))) {
      try {
        JsonNode m = JSON.readTree(manifest.toFile());
        // compare as parsed JSON on both sides (a written long reads back as an int node)
        if (JSON.readTree(JSON.writeValueAsString(configMap(config))).equals(m.get("config"))) {
          JsonNode c = m.get("counts");
          return new Summary(root, config, c.get("train_images").asInt(), c.get("test_images").asInt(),
              c.get("videos").asInt(), c.get("captions").asInt(), c.get("questions").asInt(),
              c.get("expressions").asInt(), c.get("video_questions").asInt(), c.get("vocabulary").asInt());
        }
      } catch (IOException | RuntimeException e) {
        // unreadable manifest, or one from an older generator: regenerate below
      }
    }
    return generate(root, config);
  }

  /** Writes the whole world under {@code root} (created if needed; existing files of the same names replaced). */
  public static Summary generate(Path root, Config config) {
    try {
      Files.createDirectories(root.resolve(SynthFiles.IMAGE_DIR));
      Files.deleteIfExists(root.resolve(SynthFiles.MANIFEST)); // complete again only when everything is written
      Annotations a = new Annotations();
      for (int i = 0; i < config.images(); i++) writeImage(root, config, i, i >= config.trainImages(), a);
      if (config.videos() > 0) Files.createDirectories(root.resolve(SynthFiles.VIDEO_DIR));
      for (int v = 0; v < config.videos(); v++) writeVideo(root, config, v, a);

      writeJson(root.resolve(SynthFiles.PRETRAIN), a.pretrain);
      writeJson(root.resolve(SynthFiles.CAPTION_TRAIN), a.captionTrain);
      writeJson(root.resolve(SynthFiles.CAPTION_TEST), a.captionTest);
      writeJson(root.resolve(SynthFiles.VQA_TRAIN), a.vqaTrain);
      writeJson(root.resolve(SynthFiles.VQA_TEST), a.vqaTest);
      writeJson(root.resolve(SynthFiles.VQA_VAL), a.vqaVal);
      writeJson(root.resolve(SynthFiles.RETRIEVAL_TRAIN), a.retrievalTrain);
      writeJson(root.resolve(SynthFiles.RETRIEVAL_TEST), a.retrievalTest);
      writeJson(root.resolve(SynthFiles.GROUNDING), a.groundingTrain);
      writeJson(root.resolve(SynthFiles.GROUNDING_TEST), a.groundingTest);
      writeJsonLines(root.resolve(SynthFiles.VIDEO_CAPTION), a.videoCaption);
      writeJsonLines(root.resolve(SynthFiles.VIDEO_QA), a.videoQa);
      int vocabulary = a.vocabulary.write(root.resolve(SynthFiles.VOCAB));

      Summary s = new Summary(root, config, config.trainImages(), config.testImages(), config.videos(), a.captions,
          a.vqaTrain.size() + a.vqaVal.size(), a.groundingTrain.size() + a.groundingTest.size(), a.videoQa.size(),
          vocabulary);
      Map<String, Object> counts = new LinkedHashMap<>();
      counts.put("train_images", s.trainImages());
      counts.put("test_images", s.testImages());
      counts.put("videos", s.videos());
      counts.put("captions", s.captions());
      counts.put("questions", s.questions());
      counts.put("expressions", s.expressions());
      counts.put("video_questions", s.videoQuestions());
      counts.put("vocabulary", s.vocabulary());
      Map<String, Object> manifest = new LinkedHashMap<>();
      manifest.put("generator", "mplug-java shapes world");
      manifest.put("config", configMap(config));
      manifest.put("counts", counts);
      writeJson(root.resolve(SynthFiles.MANIFEST), manifest);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the shapes world to " + root + ": " + e.getMessage(), e);
    }
  }

  /** The annotation entries as they accumulate, in file order. */
  private static final class Annotations {
    final List<Object> pretrain = new ArrayList<>();
    final List<Object> captionTrain = new ArrayList<>();
    final List<Object> captionTest = new ArrayList<>();
    final List<Object> vqaTrain = new ArrayList<>();
    final List<Object> vqaTest = new ArrayList<>();
    final List<Object> vqaVal = new ArrayList<>();
    final List<Object> retrievalTrain = new ArrayList<>();
    final List<Object> retrievalTest = new ArrayList<>();
    final List<Object> groundingTrain = new ArrayList<>();
    final List<Object> groundingTest = new ArrayList<>();
    final List<Object> videoCaption = new ArrayList<>();
    final List<Object> videoQa = new ArrayList<>();
    /** Every text as the loaders clean it (all words kept), for vocab.txt. */
    final VocabularyBuilder vocabulary = new VocabularyBuilder().bertUnused(true);
    int captions;

    void caption(String c) {
      vocabulary.add(TextCleaning.preCaption(c, Integer.MAX_VALUE));
    }

    void question(String q, String answer) {
      vocabulary.add(TextCleaning.preQuestion(q, Integer.MAX_VALUE)).add(answer);
    }
    int refId;
  }

  private static void writeImage(Path root, Config config, int index, boolean test, Annotations a)
      throws IOException {
    SplittableRandom rng = imageRng(config, index);
    Scene scene = Scenes.sample(rng, config.resolution());
    List<String> captions = SceneText.captions(scene, rng);
    List<Question> questions = SceneText.questions(scene, rng);
    List<Expression> expressions = SceneText.expressions(scene, rng);
    String image = SynthFiles.image(index);
    PointerScope scope = new PointerScope(); // frees every OpenCV object of this image now, not at GC
    try {
      Files.write(root.resolve(image), Images.toJpeg(Renderer.render(scene), JPEG_QUALITY));
    } finally {
      scope.close();
    }
    String id = SynthFiles.id(index);
    a.captions += captions.size();
    captions.forEach(a::caption);
    questions.forEach(q -> a.question(q.question(), q.answer()));
    expressions.forEach(e -> a.caption(e.text()));
    if (test) {
      a.captionTest.add(entry("image", image, "caption", captions, "image_id", id));
      a.retrievalTest.add(entry("image", image, "caption", captions));
    } else {
      a.pretrain.add(entry("image", image, "caption", captions));
      for (String c : captions) {
        a.captionTrain.add(entry("image", image, "caption", c, "image_id", id));
        a.retrievalTrain.add(entry("image", image, "caption", c, "image_id", id));
      }
    }
    for (int k = 0; k < questions.size(); k++) {
      Question q = questions.get(k);
      long qid = (long) index * 100 + k;
      if (test) {
        a.vqaTest.add(entry("question_id", qid, "question", q.question(), "image", image, "dataset", "vqa"));
        a.vqaVal.add(entry("question_id", qid, "question", q.question(), "answer", List.of(q.answer()), "image", image,
            "dataset", "vqa"));
      } else {
        a.vqaTrain.add(entry("question_id", qid, "question", q.question(), "answer", List.of(q.answer()), "image",
            image, "dataset", "vqa"));
      }
    }
    for (Expression e : expressions) {
      Box b = scene.figures().get(e.figure()).box();
      List<Integer> bbox = List.of((int) b.x1(), (int) b.y1(), (int) b.width(), (int) b.height());
      (test ? a.groundingTest : a.groundingTrain).add(entry("image", image, "text", e.text(), "bbox", bbox, "ref_id",
          a.refId++));
    }
  }

  private static void writeVideo(Path root, Config config, int index, Annotations a) {
    SplittableRandom rng = videoRng(config, index);
    Clip clip = Clip.sample(rng, config.resolution(), config.videoFrames());
    List<String> captions = ClipText.captions(clip, rng);
    List<Question> questions = ClipText.questions(clip, rng);
    String video = SynthFiles.video(index);
    PointerScope scope = new PointerScope();
    try {
      List<Mat> frames = new ArrayList<>(clip.frames());
      for (int t = 0; t < clip.frames(); t++) frames.add(Renderer.render(clip.frame(t)));
      VideoFrames.writeMjpeg(root.resolve(video), frames, VIDEO_FPS);
    } finally {
      scope.close();
    }
    captions.forEach(a::caption);
    questions.forEach(q -> a.question(q.question(), q.answer()));
    a.videoCaption.add(entry("video", video, "caption", captions));
    for (Question q : questions) a.videoQa.add(entry("video", video, "question", q.question(), "answer", q.answer()));
  }

  private static Map<String, Object> configMap(Config c) {
    return entry("images", c.images(), "videos", c.videos(), "seed", c.seed(), "resolution", c.resolution(),
        "test_fraction", c.testFraction(), "video_frames", c.videoFrames());
  }

  /** An ordered JSON object from key, value pairs. */
  private static Map<String, Object> entry(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  private static void writeJson(Path file, Object value) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), value);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void writeJsonLines(Path file, List<Object> lines) throws IOException {
    StringBuilder s = new StringBuilder();
    for (Object line : lines) s.append(JSON.writeValueAsString(line)).append('\n');
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, s, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static SplittableRandom imageRng(Config c, int index) {
    return new SplittableRandom(mix(c.seed(), IMAGE_STREAM, index));
  }

  private static SplittableRandom videoRng(Config c, int index) {
    return new SplittableRandom(mix(c.seed(), VIDEO_STREAM, index));
  }

  /** SplitMix64's finaliser over (seed, stream, index): independent-looking seeds per item. */
  static long mix(long seed, long stream, long index) {
    long z = seed + stream * 0x9E3779B97F4A7C15L + index * 0xD1B54A32D192ED03L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
