package dev.mplug.task.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retrieval task as {@code mplug finetune} / {@code evaluate} see it: the shipped configs, the config checks, and
 * an evaluation of a small shapes world whose results agree with its metrics.
 */
class RetrievalTaskTest {
  @TempDir static Path world;

  @BeforeAll
  static void makeWorld() {
    ShapesWorld.generate(world, ShapesWorld.Config.of(50, 0, 3, 32));   // 5 test images, 3 captions each
  }

  private static FinetuneConfig config(String... sets) {
    List<String> all = new ArrayList<>(List.of("data.annotations=" + world.resolve(SynthFiles.RETRIEVAL_TRAIN),
        "data.root=" + world, "eval.annotations=" + world.resolve(SynthFiles.RETRIEVAL_TEST)));
    all.addAll(List.of(sets));
    return FinetuneConfig.load("retrieval-demo", all);
  }

  @Test
  void theShippedConfigsBuildTheTask() {
    for (String name : List.of("retrieval-demo", "retrieval-base", "retrieval-large")) {
      FinetuneConfig c = FinetuneConfig.load(name, List.of());
      DownstreamTask<?> task = Tasks.of(c);
      assertEquals("retrieval", task.name(), name);
      assertEquals(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.ITC_ITM_HEADS), task.parts());
      assertEquals(List.of("r_mean", "txt_r1", "txt_r5", "txt_r10", "img_r1", "img_r5", "img_r10"), task.metrics());
      assertEquals(name.equals("retrieval-demo") ? 32 : 256, ((RetrievalTask) task).ranking().k(), name);
    }
    FinetuneConfig base = FinetuneConfig.load("retrieval-base", List.of());
    assertEquals(1e-5, base.train().lr(), 0);
    assertEquals(384, base.model().vision().imageRes());
    assertEquals(336, FinetuneConfig.load("retrieval-large", List.of()).model().vision().imageRes());
  }

  @Test
  void badRetrievalSettingsFailWithTheKeyNamed() {
    assertEquals("retrieval.k must be >= 1, got 0", error("retrieval.k=0"));
    assertEquals("retrieval.chunk must be >= 1, got -2", error("retrieval.chunk=-2"));
    assertEquals("retrieval.itm must be >= 0, got -1.0", error("retrieval.itm=-1"));
    assertEquals("retrieval.itc and retrieval.itm are both 0: nothing to train", error("retrieval.itc=0",
        "retrieval.itm=0"));
    assertEquals("data.batch_size must be >= 2 for retrieval (in-batch negatives), got 1", error("data.batch_size=1"));
  }

  private static String error(String... sets) {
    FinetuneConfig c = config(sets);
    return assertThrows(IllegalArgumentException.class, () -> Tasks.of(c)).getMessage();
  }

  @Test
  void evaluationResultsAgreeWithItsRecalls() throws IOException {
    Seeds.fresh("evaluationResultsAgreeWithItsRecalls");
    FinetuneConfig cfg = config("retrieval.k=4", "retrieval.chunk=2", "retrieval.itm_batch=3");
    DownstreamTask<?> task = Tasks.of(cfg);
    BertTokenizer tok = BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
    JsonNode file = new ObjectMapper().readTree(world.resolve(SynthFiles.RETRIEVAL_TEST).toFile());
    int n = file.size();
    List<Integer> imageOfText = new ArrayList<>();
    for (int i = 0; i < n; i++) for (int c = 0; c < file.get(i).path("caption").size(); c++) imageOfText.add(i);
    int m = imageOfText.size();
    try (TensorScope scope = TensorScope.open()) {
      MPlug model = new MPlug(cfg.model().withParts(task.parts()));
      model.train(true);
      TaskEvaluation e = task.evaluate(model, tok, FinetuneConfig.Eval.of(world.resolve(SynthFiles.RETRIEVAL_TEST),
          world, 0, 2));
      assertTrue(model.is_training(), "the model's mode is restored");
      assertEquals(task.metrics(), List.copyOf(e.metrics().keySet()));
      List<Map<String, Object>> rows = e.results();
      assertEquals(n + m, rows.size());
      int textHits = 0;
      for (int i = 0; i < n; i++) {
        Map<String, Object> row = rows.get(i);
        assertEquals(i, row.get("image_id"));
        assertEquals(file.get(i).path("image").asText(), row.get("image"));
        List<?> texts = (List<?>) row.get("texts");
        assertEquals(4, texts.size(), "k = 4 candidates listed");
        if (imageOfText.get((Integer) texts.get(0)) == i) textHits++;
      }
      int imageHits = 0;
      for (int t = 0; t < m; t++) {
        Map<String, Object> row = rows.get(n + t);
        assertEquals(t, row.get("text_id"));
        List<?> images = (List<?>) row.get("images");
        assertEquals(4, images.size());
        if ((Integer) images.get(0) == imageOfText.get(t)) imageHits++;
      }
      assertEquals(100.0 * textHits / n, e.metric("txt_r1"), 1e-9);
      assertEquals(100.0 * imageHits / m, e.metric("img_r1"), 1e-9);
      double mean = 0;
      for (String k : List.of("txt_r1", "txt_r5", "txt_r10", "img_r1", "img_r5", "img_r10")) mean += e.metric(k) / 6;
      assertEquals(mean, e.metric("r_mean"), 1e-9);
      // k = 4 of 15 texts: a gold text outside an image's 4 candidates ranks behind 14 others, a miss at 5 and 10
      assertEquals(e.metric("txt_r5"), e.metric("txt_r10"), 1e-9);
      // of 5 images every gold ranks within 5 (the one outside the candidates is 5th, behind the 4)
      assertEquals(100, e.metric("img_r5"), 1e-9);

      TaskEvaluation two = task.evaluate(model, tok, FinetuneConfig.Eval.of(world.resolve(SynthFiles.RETRIEVAL_TEST),
          world, 2, 16));
      assertEquals(2 + 6, two.results().size(), "max_items = 2 images and their 6 captions");
    }
  }

  @Test
  void trainingBatchesCarryEachPairsImageIndexAndResumeExactly() throws IOException {
    FinetuneConfig cfg = config("data.batch_size=6", "data.workers=0");
    DownstreamTask<?> task = Tasks.of(cfg);
    JsonNode file = new ObjectMapper().readTree(world.resolve(SynthFiles.RETRIEVAL_TRAIN).toFile());
    List<String> distinct = new ArrayList<>();
    for (JsonNode e : file) if (!distinct.contains(e.path("image_id").asText())) distinct.add(e.path("image_id").asText());
    BertTokenizer tok = BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
    try (TensorScope scope = TensorScope.open();
        Batches<RetrievalBatch> data = ((RetrievalTask) task).trainingData(tok, 5, 0, 1)) {
      RetrievalBatch first = data.next();
      assertEquals(6, first.size());
      assertEquals(List.of(6L, 3L, 64L, 64L), Arrays.stream(Tensors.shape(first.images())).boxed().toList());
      long[] ids = Tensors.toLongs(first.imageIds());
      for (long id : ids) assertTrue(id >= 0 && id < distinct.size(), "image index " + id);
      var position = data.position();
      RetrievalBatch second = data.next();
      data.seek(position);
      RetrievalBatch again = data.next();
      assertTrue(second.ids().equal(again.ids()) && second.imageIds().equal(again.imageIds()),
          "seeking to a saved position repeats the batch");
    }
  }

  @Test
  void aMissingEvaluationImageIsNamed() throws IOException {
    Path file = world.resolve("broken_test.json");
    Files.writeString(file, "[{\"image\": \"images/nope.jpg\", \"caption\": [\"a red circle\"]}]");
    FinetuneConfig cfg = config();
    DownstreamTask<?> task = Tasks.of(cfg);
    try (TensorScope scope = TensorScope.open()) {
      MPlug model = new MPlug(cfg.model().withParts(task.parts()));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> task.evaluate(model,
          BertTokenizer.load(world.resolve(SynthFiles.VOCAB)), FinetuneConfig.Eval.of(file, world, 0, 4)));
      assertTrue(e.getMessage().startsWith("eval image images/nope.jpg: file not found"), e.getMessage());
    }
  }
}
