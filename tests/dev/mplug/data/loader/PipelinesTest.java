package dev.mplug.data.loader;

import static dev.mplug.data.text.TextCleaning.preCaption;
import static dev.mplug.data.text.TextCleaning.preQuestion;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.dataset.PretrainSample;
import dev.mplug.data.dataset.Task;
import dev.mplug.data.dataset.VideoQaSample;
import dev.mplug.data.dataset.VqaSample;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.shard.ShardPacker;
import dev.mplug.data.shard.ShardSet;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole data pipeline over a generated shapes world: files -> decode -> augment -> tokenise -> batches. */
class PipelinesTest {
  /** 12 images of 64 px (10 train, 2 test), 2 clips of 4 frames. */
  static final ShapesWorld.Config WORLD = new ShapesWorld.Config(12, 2, 5, 64, 0.15, 4);
  static final int RES = 32;
  /** Bounds of CLIP-normalised pixels: (0 - mean) / std and (1 - mean) / std over the three channels. */
  static final float LOW = lowest();
  static final float HIGH = highest();

  @TempDir static Path root;
  static BertTokenizer tok;

  @BeforeAll
  static void world() {
    ShapesWorld.generate(root, WORLD);
    tok = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
  }

  /** A batch in plain Java, to compare runs. */
  record Seen(int[] indices, long[] shape, float[] images, long[] textIds, long[] textMask, List<String> ids) {
    boolean sameAs(Seen o) {
      return Arrays.equals(indices, o.indices) && Arrays.equals(shape, o.shape) && Arrays.equals(images, o.images)
          && Arrays.equals(textIds, o.textIds) && Arrays.equals(textMask, o.textMask) && ids.equals(o.ids);
    }
  }

  static Seen seen(Batch b) {
    Tensor images = b.tensor(Batch.IMAGES);
    return new Seen(b.indices(), Tensors.shape(images), Tensors.toFloats(images), Tensors.toLongs(
        b.tensor(Batch.TEXT_IDS)), Tensors.toLongs(b.tensor(Batch.TEXT_MASK)), b.strings(Batch.IDS));
  }

  /** The first {@code n} batches of epoch 0. */
  static List<Seen> read(DataLoader<Example<Mat>> loader, int n) {
    List<Seen> out = new ArrayList<>();
    try (loader; var epoch = loader.epoch(0)) {
      for (int i = 0; i < n && epoch.hasNext(); i++) {
        try (Batch b = epoch.next()) {
          out.add(seen(b));
        }
      }
    }
    return out;
  }

  static DataLoader<Example<Mat>> pretrainLoader(String annotations, long seed, List<String> reports) {
    LoaderConfig config = LoaderConfig.of(4).withShuffle(true, seed).withWorkers(2, 2);
    return Pipelines.loader(Task.PRETRAIN, Pipelines.annotations(Task.PRETRAIN, root.resolve(annotations), root),
        tok, PipelineOptions.training(RES), config, Collections.synchronizedList(reports)::add);
  }

  static String row(long[] ids, int i, int length) {
    return tok.decode(Arrays.copyOfRange(ids, i * length, (i + 1) * length));
  }

  @Test
  void pretrainingBatchesHoldNormalisedAugmentedImagesAndTheSampledCaptions() {
    AnnotationDataset<PretrainSample> entries = AnnotationDataset.pretrain(root.resolve(SynthFiles.PRETRAIN), root);
    List<Seen> batches = read(pretrainLoader(SynthFiles.PRETRAIN, 3, new ArrayList<>()), 2);
    assertEquals(2, batches.size());
    for (Seen b : batches) {
      assertArrayEquals(new long[] {4, 3, RES, RES}, b.shape());
      float min = Float.MAX_VALUE;
      float max = -Float.MAX_VALUE;
      for (float v : b.images()) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      assertTrue(min >= LOW - 1e-4 && max <= HIGH + 1e-4, "normalised range: " + min + ".." + max);
      assertTrue(min < -1 && max > 1, "real pictures span the range: " + min + ".." + max);
      int t = b.textIds().length / 4;
      for (int i = 0; i < 4; i++) {
        PretrainSample s = entries.get(b.indices()[i]);
        assertEquals(s.image(), b.ids().get(i));
        String text = row(b.textIds(), i, t);
        assertTrue(s.captions().stream().map(c -> preCaption(c, 30)).toList().contains(text),
            "'" + text + "' is a cleaned caption of " + s.image() + ": " + s.captions());
        for (int j = 0; j < t; j++) {
          assertEquals(b.textIds()[i * t + j] != tok.vocabulary().padId() ? 1 : 0, b.textMask()[i * t + j]);
        }
        assertEquals(tok.vocabulary().clsId(), b.textIds()[i * t]);
      }
    }
    assertFalse(Arrays.equals(batches.get(0).indices(), new int[] {0, 1, 2, 3}), "shuffled");
  }

  @Test
  void batchTensorsAreFloatImagesAndLongTokens() {
    try (var loader = Pipelines.pretrain(root.resolve(SynthFiles.PRETRAIN), root, tok, PipelineOptions.training(RES),
        LoaderConfig.of(4)); var epoch = loader.epoch(0); Batch b = epoch.next()) {
      assertArrayEquals(new long[] {4, 3, RES, RES}, Tensors.shape(b.tensor(Batch.IMAGES)));
      assertEquals(torch.ScalarType.Float.value, b.tensor(Batch.IMAGES).scalar_type().value);
      assertEquals(torch.ScalarType.Long.value, b.tensor(Batch.TEXT_IDS).scalar_type().value);
      assertEquals(torch.ScalarType.Long.value, b.tensor(Batch.TEXT_MASK).scalar_type().value);
      assertEquals(List.of("ids", "images", "text_ids", "text_mask", "texts"), b.names());
      long[] ids = Tensors.toLongs(b.tensor(Batch.TEXT_IDS));
      int t = ids.length / 4;
      for (int i = 0; i < 4; i++) {   // each row's ids are its text, tokenised
        int[] expected = tok.encode(b.strings(Batch.TEXTS).get(i), t).ids();
        for (int j = 0; j < t; j++) assertEquals(expected[j], ids[i * t + j], "text " + i + " token " + j);
      }
    }
  }

  @Test
  void sameSeedSameBatchesOtherSeedOtherAugmentation() {
    List<Seen> a = read(pretrainLoader(SynthFiles.PRETRAIN, 3, new ArrayList<>()), 2);
    List<Seen> b = read(pretrainLoader(SynthFiles.PRETRAIN, 3, new ArrayList<>()), 2);
    List<Seen> c = read(pretrainLoader(SynthFiles.PRETRAIN, 4, new ArrayList<>()), 2);
    for (int i = 0; i < 2; i++) assertTrue(a.get(i).sameAs(b.get(i)), "batch " + i + " repeats bit for bit");
    assertNotEquals(Arrays.toString(a.get(0).images()), Arrays.toString(c.get(0).images()));
  }

  @Test
  void emptyAndTruncatedImagesAreReportedReplacedAndCounted() throws IOException {
    byte[] jpeg = Files.readAllBytes(root.resolve(SynthFiles.image(1)));
    Files.write(root.resolve("images/empty.jpg"), new byte[0]);
    Files.write(root.resolve("images/truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
    ObjectMapper json = new ObjectMapper();
    ArrayNode entries = (ArrayNode) json.readTree(root.resolve(SynthFiles.PRETRAIN).toFile());
    ((ObjectNode) entries.get(2)).put("image", "images/empty.jpg");
    ((ObjectNode) entries.get(5)).put("image", "images/truncated.jpg");
    json.writeValue(root.resolve("pretrain_bad.json").toFile(), entries);

    List<String> reports = new ArrayList<>();
    List<Integer> used = new ArrayList<>();
    int replaced = 0;
    LoaderConfig tolerant = LoaderConfig.of(4).withShuffle(true, 3).withWorkers(2, 2).withBadSamples(0.5, 0);
    try (var loader = Pipelines.loader(Task.PRETRAIN, Pipelines.annotations(Task.PRETRAIN,
        root.resolve("pretrain_bad.json"), root), tok, PipelineOptions.training(RES), tolerant, reports::add);
        var epoch = loader.epoch(0)) {
      while (epoch.hasNext()) {
        try (Batch b = epoch.next()) {
          for (int i : b.indices()) used.add(i);
          replaced += b.replaced().size();
          assertArrayEquals(new long[] {b.size(), 3, RES, RES}, Tensors.shape(b.tensor(Batch.IMAGES)));
        }
      }
      assertEquals(2, loader.badSamples().substitutions());
      assertEquals(2, loader.badSamples().distinct());
      assertEquals(10, loader.badSamples().delivered());
    }
    assertEquals(2, replaced);
    assertEquals(10, used.size(), "every position filled");
    assertFalse(used.contains(2) || used.contains(5), "bad entries replaced: " + used);
    assertEquals(2, reports.size(), reports.toString());
    String all = String.join("\n", reports);
    assertTrue(all.contains("images/empty.jpg: empty file (0 bytes)"), all);
    assertTrue(all.contains("images/truncated.jpg"), all);

    // at the default limit (1%) the same file stops the run with a clear message
    LoaderConfig strict = LoaderConfig.of(4).withWorkers(2, 2).withBadSamples(0.01, 0);
    try (var l = Pipelines.loader(Task.PRETRAIN, Pipelines.annotations(Task.PRETRAIN,
        root.resolve("pretrain_bad.json"), root), tok, PipelineOptions.training(RES), strict, m -> { });
        var epoch = l.epoch(0)) {
      TooManyBadSamplesException e = assertThrows(TooManyBadSamplesException.class, () -> {
        while (epoch.hasNext()) epoch.next().close();
      });
      assertTrue(e.getMessage().contains("were bad"), e.getMessage());
    }
  }

  @Test
  void vqaBatchesCarryCleanedQuestionsAnswersAndWeights() {
    AnnotationDataset<VqaSample> entries = AnnotationDataset.vqa(root.resolve(SynthFiles.VQA_TRAIN), root);
    Map<String, VqaSample> byId = new HashMap<>();
    for (int i = 0; i < entries.size(); i++) byId.put(Long.toString(entries.get(i).questionId()), entries.get(i));
    LoaderConfig config = LoaderConfig.of(6).withShuffle(true, 1).withWorkers(2, 2);
    try (var loader = Pipelines.loader(Task.VQA, Pipelines.annotations(Task.VQA, root.resolve(SynthFiles.VQA_TRAIN),
        root), tok, PipelineOptions.training(RES).withFlip(false), config); var epoch = loader.epoch(0);
        Batch b = epoch.next()) {
      assertArrayEquals(new long[] {6, 3, RES, RES}, Tensors.shape(b.tensor(Batch.IMAGES)));
      long[] q = Tensors.toLongs(b.tensor(Batch.TEXT_IDS));
      long[] a = Tensors.toLongs(b.tensor(Batch.ANSWER_IDS));
      int ta = (int) Tensors.shape(b.tensor(Batch.ANSWER_IDS))[1];
      assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1}, Tensors.toLongs(b.tensor(Batch.ANSWER_COUNTS)));
      assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, Tensors.toFloats(b.tensor(Batch.ANSWER_WEIGHTS)));
      for (int i = 0; i < 6; i++) {
        VqaSample s = byId.get(b.strings(Batch.IDS).get(i));
        assertEquals(entries.get(b.indices()[i]), s);
        assertEquals(preQuestion(s.question(), 30), row(q, i, q.length / 6));
        assertEquals(s.answers().getFirst(), row(a, i, ta));
      }
    }
  }

  @Test
  void groundingBoxesFollowTheLetterboxAndStayOnTheCanvas() {
    AnnotationDataset<GroundingSample> entries = AnnotationDataset.grounding(root.resolve(SynthFiles.GROUNDING), root);
    int res = 48;
    LoaderConfig config = LoaderConfig.of(5).withShuffle(false, 0).withWorkers(2, 2);
    try (var loader = Pipelines.loader(Task.GROUNDING, Pipelines.annotations(Task.GROUNDING,
        root.resolve(SynthFiles.GROUNDING), root), tok, PipelineOptions.evaluation(res), config);
        var epoch = loader.epoch(0); Batch b = epoch.next()) {
      assertArrayEquals(new long[] {5, 3, res, res}, Tensors.shape(b.tensor(Batch.IMAGES)));
      float[] boxes = Tensors.toFloats(b.tensor(Batch.BOXES));
      long[] ids = Tensors.toLongs(b.tensor(Batch.TEXT_IDS));
      for (int i = 0; i < 5; i++) {
        GroundingSample s = entries.get(i);
        double[] xywh = s.box().xywh();
        for (int j = 0; j < 4; j++) {
          assertEquals(xywh[j] * res / 64, boxes[i * 4 + j], 1e-4, "square 64 px image letterboxed to " + res);
        }
        assertEquals(s.text(), row(ids, i, ids.length / 5));
        assertEquals(Long.toString(s.refId()), b.strings(Batch.IDS).get(i));
      }
    }

    int trainRes = 64;
    config = LoaderConfig.of(8).withShuffle(true, 2).withWorkers(2, 2);
    try (var loader = Pipelines.loader(Task.GROUNDING, Pipelines.annotations(Task.GROUNDING,
        root.resolve(SynthFiles.GROUNDING), root), tok, PipelineOptions.training(trainRes), config);
        var epoch = loader.epoch(0); Batch b = epoch.next()) {
      float[] boxes = Tensors.toFloats(b.tensor(Batch.BOXES));
      float[] images = Tensors.toFloats(b.tensor(Batch.IMAGES));
      for (int i = 0; i < 8; i++) {
        float x = boxes[i * 4];
        float y = boxes[i * 4 + 1];
        float w = boxes[i * 4 + 2];
        float h = boxes[i * 4 + 3];
        assertTrue(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= trainRes + 1e-3 && y + h <= trainRes + 1e-3,
            "box inside the canvas: " + x + ", " + y + ", " + w + ", " + h);
        // the box centre is on the shape: a colourful pixel (the backgrounds and the padding are grey)
        int cx = (int) (x + w / 2);
        int cy = (int) (y + h / 2);
        double[] rgb = new double[3];
        for (int c = 0; c < 3; c++) {
          double v = images[((i * 3 + c) * trainRes + cy) * trainRes + cx];
          rgb[c] = 255 * (v * ImageBatch.STD[c] + ImageBatch.MEAN[c]);
        }
        double spread = Math.max(rgb[0], Math.max(rgb[1], rgb[2])) - Math.min(rgb[0], Math.min(rgb[1], rgb[2]));
        assertTrue(spread > 40, "sample " + b.indices()[i] + ": box centre " + Arrays.toString(rgb) + " is colourful");
      }
    }
  }

  @Test
  void videoBatchesStackFramesPerClip() {
    AnnotationDataset<VideoQaSample> entries = AnnotationDataset.videoQa(root.resolve(SynthFiles.VIDEO_QA), root);
    int n = Math.min(3, entries.size());
    LoaderConfig config = LoaderConfig.of(n).withShuffle(false, 0).withWorkers(2, 2);
    try (var loader = Pipelines.loader(Task.VIDEO_QA, Pipelines.annotations(Task.VIDEO_QA,
        root.resolve(SynthFiles.VIDEO_QA), root), tok, PipelineOptions.training(RES).withVideoFrames(3), config);
        var epoch = loader.epoch(0); Batch b = epoch.next()) {
      assertArrayEquals(new long[] {n, 3, 3, RES, RES}, Tensors.shape(b.tensor(Batch.IMAGES)));
      long[] a = Tensors.toLongs(b.tensor(Batch.ANSWER_IDS));
      for (int i = 0; i < n; i++) {
        assertEquals(entries.get(i).answer(), row(a, i, a.length / n));
      }
    }
  }

  @Test
  void shardsGiveTheSameBatchesAsTheAnnotationFile(@TempDir Path shards) {
    AnnotationDataset<PretrainSample> d = AnnotationDataset.pretrain(root.resolve(SynthFiles.PRETRAIN), root);
    ShardPacker.pack(d, shards, 3, e -> { throw e; });
    LoaderConfig config = LoaderConfig.of(5).withShuffle(true, 8).withWorkers(2, 2);
    PipelineOptions options = PipelineOptions.training(RES);
    List<Seen> fromFiles = read(Pipelines.loader(Task.PRETRAIN, SampleStore.of(d), tok, options, config), 2);
    try (ShardSet set = ShardSet.open(shards)) {
      List<Seen> fromShards = read(Pipelines.loader(Task.PRETRAIN, SampleStore.of(set), tok, options, config), 2);
      for (int i = 0; i < 2; i++) assertTrue(fromFiles.get(i).sameAs(fromShards.get(i)), "batch " + i);
    }
  }

  @Test
  void aPipelineGivenAnotherTasksSamplesFailsClearly() {
    try (var loader = Pipelines.loader(Task.GROUNDING, Pipelines.annotations(Task.PRETRAIN,
        root.resolve(SynthFiles.PRETRAIN), root), tok, PipelineOptions.evaluation(RES), LoaderConfig.of(2));
        var epoch = loader.epoch(0)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, epoch::next);
      assertTrue(e.getMessage().startsWith("the grounding pipeline got a pretrain sample from "), e.getMessage());
    }
  }

  static float lowest() {
    float v = Float.MAX_VALUE;
    for (int c = 0; c < 3; c++) v = (float) Math.min(v, -ImageBatch.MEAN[c] / ImageBatch.STD[c]);
    return v;
  }

  static float highest() {
    float v = -Float.MAX_VALUE;
    for (int c = 0; c < 3; c++) v = (float) Math.max(v, (1 - ImageBatch.MEAN[c]) / ImageBatch.STD[c]);
    return v;
  }
}
