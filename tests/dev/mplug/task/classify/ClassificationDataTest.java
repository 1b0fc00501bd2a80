package dev.mplug.task.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.Task;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.model.TextConfig;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.nlvr2.Nlvr2Head;
import dev.mplug.task.snlive.SnliVeHead;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.train.Batches;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SNLI-VE and NLVR2 data: the shapes world's files in ALBEF's formats parse, the training stream batches them, the
 * evaluation writes one result row per entry, and unusable entries are refused with one line naming file and line.
 */
class ClassificationDataTest {
  @TempDir static Path root;
  static BertTokenizer tokenizer;

  @BeforeAll
  static void world() {
    ShapesWorld.generate(root, new ShapesWorld.Config(20, 0, 3, 32, 0.25, 16));
    tokenizer = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
  }

  /** The tiny preset over the world's 32 px images and its vocabulary. */
  private static MPlug model() {
    MPlugConfig c = MPlugConfig.tiny();
    TextConfig t = c.text();
    return new MPlug(c.withText(new TextConfig(t.hidden(), t.heads(), t.intermediate(),
        tokenizer.vocabulary().size(), t.maxPositions(), t.typeVocab(), t.layerNormEps(), t.hiddenDropout(),
        t.attentionDropout(), t.textEncoderLayers(), t.fusionLayers(), t.strideLayer(), t.decoderLayers(),
        t.padTokenId())).withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION)));
  }

  private static FinetuneConfig config(String task, String train) {
    return FinetuneConfig.defaults(task, List.of("data.annotations=" + root.resolve(train), "data.root=" + root,
        "data.batch_size=4", "data.workers=1", "data.augment=false", "data.max_tokens=16",
        "output_dir=" + root.resolve("out")));
  }

  @Test
  void shapesWorldFilesParseWithBalancedLabels() {
    var nlvr = AnnotationDataset.nlvr2(root.resolve(SynthFiles.NLVR2_TRAIN), root);
    var ve = AnnotationDataset.snliVe(root.resolve(SynthFiles.SNLI_VE_TEST), root);
    assertEquals(30, nlvr.size(), "two pairs per training image");
    assertEquals(3 * 5, ve.size(), "three hypotheses per test image");
    assertTrue(nlvr.problems().isEmpty() && ve.problems().isEmpty());
    for (int i = 0; i < ve.size(); i++) assertEquals(2 - i % 3, ve.get(i).label().classId(), "E, N, C per image");
  }

  @Test
  void nlvr2TrainingBatchesHoldImagePairs() {
    try (TensorScope _ = TensorScope.open();
        Batches<ClassificationBatch> data = ClassificationData.open(Task.NLVR2,
            config("nlvr2", SynthFiles.NLVR2_TRAIN).data(), 32, tokenizer, 1, 0, 1)) {
      ClassificationBatch b = data.next();
      assertArrayEquals(new long[] {4, 2, 3, 32, 32}, Tensors.shape(b.images()));
      assertEquals(4, b.ids().size(0));
      for (long label : Tensors.toLongs(b.labels())) assertTrue(label == 0 || label == 1, "label " + label);
    }
  }

  @Test
  void evaluationWritesOneRowPerEntry() {
    try (TensorScope _ = TensorScope.open()) {
      MPlug model = model();
      TaskEvaluation e = ClassificationEvaluation.evaluate(new SnliVeHead(model), Task.SNLI_VE, tokenizer,
          FinetuneConfig.Eval.of(root.resolve(SynthFiles.SNLI_VE_TEST), root, 7, 3), 30, 16);
      assertEquals(7, e.results().size());
      Map<String, Object> first = e.results().get(0);
      assertEquals(List.of("index", "image", "sentence", "prediction", "label"), List.copyOf(first.keySet()));
      assertEquals("entailment", first.get("label"));
      long right = e.results().stream().filter(r -> r.get("prediction").equals(r.get("label"))).count();
      assertEquals(100.0 * right / 7, e.metric("accuracy"), 1e-9);
      TaskEvaluation n = ClassificationEvaluation.evaluate(new Nlvr2Head(model()), Task.NLVR2, tokenizer,
          FinetuneConfig.Eval.of(root.resolve(SynthFiles.NLVR2_TEST), root, 0, 2), 30, 16);
      assertEquals(10, n.results().size(), "two pairs per test image");
      assertEquals(2, ((List<?>) n.results().get(0).get("images")).size());
      assertTrue(List.of("True", "False").contains(n.results().get(0).get("prediction")));
    }
  }

  @Test
  void badEntriesAreRefusedNamingFileAndLine() throws IOException {
    Path file = root.resolve("bad_ve.jsonl");
    Files.writeString(file, """
        {"image": "images/000000.jpg", "sentence": "there is one shape", "label": "entailment"}
        {"image": "images/000001.jpg", "sentence": "there are two shapes", "label": "maybe"}
        """);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClassificationEvaluation.evaluate(
        new SnliVeHead(model()), Task.SNLI_VE, tokenizer, FinetuneConfig.Eval.of(file, root, 0, 2), 30, 16));
    assertEquals("eval.annotations: " + file + ":2: field \"label\" must be \"entailment\", \"neutral\" or "
        + "\"contradiction\", got \"maybe\"", e.getMessage());
    Path pairs = root.resolve("bad_nlvr.jsonl");
    Files.writeString(pairs, """
        {"images": ["images/000000.jpg"], "sentence": "both images contain a red shape", "label": "True"}
        """);
    e = assertThrows(IllegalArgumentException.class, () -> ClassificationEvaluation.evaluate(new Nlvr2Head(model()),
        Task.NLVR2, tokenizer, FinetuneConfig.Eval.of(pairs, root, 0, 2), 30, 16));
    assertEquals("eval.annotations: " + pairs + ":1: field \"images\" must list 2 images, got 1", e.getMessage());
    Path missing = root.resolve("missing_image.jsonl");
    Files.writeString(missing, """
        {"image": "images/nowhere.jpg", "sentence": "there is one shape", "label": "neutral"}
        """);
    e = assertThrows(IllegalArgumentException.class, () -> ClassificationEvaluation.evaluate(new SnliVeHead(model()),
        Task.SNLI_VE, tokenizer, FinetuneConfig.Eval.of(missing, root, 0, 2), 30, 16));
    assertTrue(e.getMessage().startsWith("eval image images/nowhere.jpg: "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }
}
