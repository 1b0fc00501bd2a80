package dev.mplug.task.caption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.CaptionSample;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.model.TextConfig;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.train.Batches;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The caption task's config section, its training batches and its evaluation's result format. */
class CaptionTaskTest {
  @TempDir Path root;

  private static CaptionTask task(String... overrides) {
    return (CaptionTask) Tasks.of(FinetuneConfig.defaults("caption", List.of(overrides)));
  }

  private static String error(String... overrides) {
    return assertThrows(IllegalArgumentException.class, () -> task(overrides)).getMessage();
  }

  @Test
  void theSectionDefaultsToTheOfficialCocoDecodingAndNamesBadKeys() {
    CaptionTask t = task();
    assertEquals(new CaptionTask.Options(5, 8, 25, false, 5, ""), t.options());
    assertEquals(EnumSet.of(Part.VISION, Part.DECODER), t.parts());
    assertEquals("CIDEr", t.metrics().get(0));
    assertTrue(error("caption.beam_size=0").startsWith("caption.beam_size"));
    assertTrue(error("caption.min_length=9", "caption.max_length=8").contains("caption.min_length (9)"));
    assertTrue(error("caption.max_length=40").contains("max_position_embeddings 32"), "tiny model: 32 positions");
    assertTrue(error("caption.scst=true", "caption.scst_beams=1").startsWith("caption.scst_beams must be >= 2"));
    assertTrue(error("caption.scst_beams=3").contains("caption.scst is not true"));
    assertEquals("a picture of", task("caption.prompt= a picture of ").options().prompt());
    assertTrue(error("caption.prompt=a picture of", "caption.max_length=29").contains("the prompt's 3 words"));
  }

  @Test
  void trainingBatchesHoldTheCaptionWithTheOfficialDoubleEndToken() throws IOException {
    ShapesWorld.generate(root, new ShapesWorld.Config(6, 0, 3, 32, 0.25, 4));
    BertTokenizer tok = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
    Vocabulary v = tok.vocabulary();
    Path file = root.resolve(SynthFiles.CAPTION_TRAIN);
    FinetuneConfig.Data data = new FinetuneConfig.Data(file, root, null, 2, 30, 32, 10, 0, false, 0.0);
    Map<String, String> imageOfId = new HashMap<>();
    List<String> captions = new ArrayList<>();
    AnnotationDataset<CaptionSample> dataset = AnnotationDataset.caption(file, root);
    for (int i = 0; i < dataset.size(); i++) {
      imageOfId.put(dataset.get(i).imageId(), dataset.get(i).image());
      captions.add(TextCleaning.preCaption(dataset.get(i).captions().get(0), 30));
    }
    try (TensorScope _ = TensorScope.open();
        Batches<CaptionBatch> stream = CaptionData.open(data, 32, tok, "", 0, 0, 1)) {
      CaptionBatch b = stream.next();
      assertEquals(2, b.size());
      assertArrayEquals(new long[] {2, 3, 32, 32}, Tensors.shape(b.images()));
      for (int i = 0; i < 2; i++) {
        assertTrue(imageOfId.containsKey(b.imageIds().get(i)), b.imageIds().get(i));
        long[] ids = Tensors.toLongs(b.ids().select(0, i));
        long[] mask = Tensors.toLongs(b.mask().select(0, i));
        int n = 0;
        while (n < mask.length && mask[n] == 1) n++;
        assertEquals(v.clsId(), ids[0]);
        assertEquals(v.sepId(), ids[n - 1]);
        assertEquals(v.sepId(), ids[n - 2], "caption + \" [SEP]\", then the tokenizer's [SEP]");
        for (int j = n; j < ids.length; j++) assertEquals(v.padId(), ids[j]);
        assertTrue(captions.contains(tok.decode(ids)), tok.decode(ids));
      }
    }
  }

  @Test
  void aPromptLeadsEveryTrainingCaptionAndItsWordsMustBeInTheVocabulary() throws IOException {
    ShapesWorld.generate(root, new ShapesWorld.Config(6, 0, 3, 32, 0.25, 4));
    BertTokenizer tok = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
    Vocabulary v = tok.vocabulary();
    long[] prompt = task("caption.prompt=there is").promptIds(tok);
    assertArrayEquals(new long[] {v.id("there"), v.id("is")}, prompt);
    assertEquals(0, task().promptIds(tok).length);
    String e = assertThrows(IllegalArgumentException.class, () -> task("caption.prompt=a picture of").promptIds(tok))
        .getMessage();
    assertEquals("caption.prompt \"a picture of\": word 2 is not in the vocabulary", e);
    FinetuneConfig.Data data = new FinetuneConfig.Data(root.resolve(SynthFiles.CAPTION_TRAIN), root, null, 2, 30, 32,
        10, 0, false, 0.0);
    try (TensorScope _ = TensorScope.open();
        Batches<CaptionBatch> stream = CaptionData.open(data, 32, tok, "there is", 0, 0, 1)) {
      CaptionBatch b = stream.next();
      for (int i = 0; i < 2; i++) {
        long[] ids = Tensors.toLongs(b.ids().select(0, i));
        assertArrayEquals(new long[] {v.clsId(), v.id("there"), v.id("is")}, Arrays.copyOf(ids, 3));
        assertTrue(tok.decode(ids).startsWith("there is "), tok.decode(ids));
      }
    }
  }

  @Test
  void evaluationWritesOneCaptionPerImageAndRestoresTheMode() {
    ShapesWorld.generate(root, new ShapesWorld.Config(8, 0, 5, 32, 0.5, 4));
    BertTokenizer tok = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
    Seeds.fresh("caption eval");
    MPlugConfig c = MPlugConfig.tiny();
    TextConfig t = c.text();
    MPlug model = new MPlug(c.withText(new TextConfig(t.hidden(), t.heads(), t.intermediate(),
        tok.vocabulary().size(), t.maxPositions(), t.typeVocab(), t.layerNormEps(), t.hiddenDropout(),
        t.attentionDropout(), t.textEncoderLayers(), t.fusionLayers(), t.strideLayer(), t.decoderLayers(),
        t.padTokenId())).withParts(Part.caption()));
    model.train(true);
    CaptionTask task = task("caption.beam_size=2", "caption.min_length=1", "caption.max_length=6");
    FinetuneConfig.Eval set = FinetuneConfig.Eval.of(root.resolve(SynthFiles.CAPTION_TEST), root, 3, 2);
    TaskEvaluation e = task.evaluate(model, tok, set);
    assertTrue(model.is_training(), "training mode restored");
    assertEquals(CaptionEvaluation.METRICS, List.copyOf(e.metrics().keySet()));
    assertEquals(List.of("METEOR", "SPICE"), List.copyOf(e.notes().keySet()), "listed as not computed");
    assertEquals(3, e.results().size(), "max_items = 3 of the 4 test images");
    for (Map<String, Object> row : e.results()) {
      assertEquals(List.of("image_id", "caption"), List.copyOf(row.keySet()));
      assertFalse(((String) row.get("caption")).contains("[SEP]"));
    }
    for (double m : e.metrics().values()) assertTrue(m >= 0 && Double.isFinite(m), e.metrics().toString());
  }

  @Test
  void evaluationImagesGroupEntriesByImageId() throws IOException {
    Path file = root.resolve("train-style.json");
    Files.writeString(file, "[{\"image\": \"a.jpg\", \"caption\": \"one\", \"image_id\": 7},"
        + "{\"image\": \"b.jpg\", \"caption\": \"two\", \"image_id\": \"x\"},"
        + "{\"image\": \"a.jpg\", \"caption\": \"three\", \"image_id\": 7}]");
    List<CaptionEvaluation.Image> images = CaptionEvaluation.images(AnnotationDataset.caption(file, root), 0);
    assertEquals(List.of(new CaptionEvaluation.Image("7", "a.jpg", List.of("one", "three")),
        new CaptionEvaluation.Image("x", "b.jpg", List.of("two"))), images);
    assertEquals(1, CaptionEvaluation.images(AnnotationDataset.caption(file, root), 1).size());
    assertEquals(Map.of("7", List.of("one", "three"), "x", List.of("two")),
        SelfCriticalTraining.references(file, root));
    Files.writeString(file, "[{\"image\": \"a.jpg\", \"caption\": \"one\", \"image_id\": 7},"
        + "{\"image\": \"c.jpg\", \"caption\": \"two\", \"image_id\": 7}]");
    String m = assertThrows(IllegalArgumentException.class,
        () -> CaptionEvaluation.images(AnnotationDataset.caption(file, root), 0)).getMessage();
    assertTrue(m.contains("image_id 7") && m.contains("c.jpg"), m);
  }

  @Test
  void resultIdsAreNumbersOnlyWhenTheyWereIntegers() {
    assertEquals(391895L, CaptionEvaluation.resultId("391895"));
    assertEquals("000900", CaptionEvaluation.resultId("000900"));
    assertEquals("COCO_val2014_000000391895.jpg", CaptionEvaluation.resultId("COCO_val2014_000000391895.jpg"));
  }
}
