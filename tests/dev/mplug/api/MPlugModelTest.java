package dev.mplug.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.PretrainedShapes;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.task.TrainedModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The API answers as {@code mplug evaluate} does: on the shared pretrained shapes model (every part, so one checkpoint
 * serves the four tasks), each task's API output equals its evaluation's results on the same items; a batch gives the
 * answers of one request at a time (the batch pads texts to its longest); 8 threads sharing one model give the
 * sequential answers. Each comparison first checks that the answers differ between items, so that equality says
 * something.
 */
class MPlugModelTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ITEMS = 16;

  private static Path world() {
    return PretrainedShapes.world();
  }

  private static MPlugModel.Builder model(Task task) {
    return MPlugModel.builder(PretrainedShapes.checkpoint()).task(task).vocab(world().resolve(SynthFiles.VOCAB))
        .threads(1);
  }

  /** The task's evaluation of its first {@code ITEMS} items (batch 8), by a separately loaded model. */
  private static TaskEvaluation evaluate(Task task, String file) {
    DownstreamTask<?> t = Tasks.of(FinetuneConfig.defaults(task.label(), List.of()));
    MPlug model = TrainedModel.load(PretrainedShapes.checkpoint(), null, t).model();
    try {
      return t.evaluate(model, BertTokenizer.load(world().resolve(SynthFiles.VOCAB)),
          FinetuneConfig.Eval.of(world().resolve(file), world(), ITEMS, 8));
    } finally {
      model.close();
    }
  }

  private static List<JsonNode> entries(String file, int n) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode e : JSON.readTree(world().resolve(file).toFile())) if (out.size() < n) out.add(e);
    return out;
  }

  private static ImageInput image(JsonNode entry) {
    return ImageInput.of(world().resolve(entry.get("image").asText()));
  }

  @Test
  void vqaAnswersEqualTheEvaluationsOneByOneAndFromEightThreads() throws Exception {
    List<JsonNode> questions = entries(SynthFiles.VQA_VAL, ITEMS);
    List<ImageText> requests = questions.stream().map(q -> new ImageText(image(q), q.get("question").asText()))
        .toList();
    TaskEvaluation eval = evaluate(Task.VQA, SynthFiles.VQA_VAL);
    try (MPlugModel vqa = model(Task.VQA).batchSize(8).build()) {
      List<String> batched = vqa.answerAll(requests).stream().map(Answer::text).toList();
      List<String> expected = eval.results().stream().map(r -> (String) r.get("answer")).toList();
      System.out.println("VQA answers: " + batched);
      assertTrue(new HashSet<>(batched).size() >= 2, "the answers depend on the inputs: " + batched);
      assertEquals(expected, batched, "the API's answers are the evaluation's");
      List<String> single = new ArrayList<>();
      for (ImageText r : requests) single.add(vqa.answer(r.image(), r.text()).text());
      assertEquals(batched, single, "one by one = batched");
      assertEquals(batched, concurrently(8, requests, r -> vqa.answer(r.image(), r.text()).text()),
          "8 threads = sequential");
    }
  }

  @Test
  void captionsEqualTheEvaluationsOneByOneAndFromEightThreads() throws Exception {
    List<JsonNode> entries = entries(SynthFiles.CAPTION_TEST, ITEMS);
    List<ImageInput> images = entries.stream().map(MPlugModelTest::image).toList();
    TaskEvaluation eval = evaluate(Task.CAPTION, SynthFiles.CAPTION_TEST);
    try (MPlugModel captioner = model(Task.CAPTION).batchSize(8).build()) {
      List<String> batched = captioner.captionAll(images).stream().map(Caption::text).toList();
      System.out.println("captions: " + batched);
      assertTrue(new HashSet<>(batched).size() >= 2, "the captions depend on the images: " + batched);
      assertEquals(eval.results().stream().map(r -> (String) r.get("caption")).toList(), batched,
          "the API's captions are the evaluation's");
      List<String> single = new ArrayList<>();
      for (ImageInput im : images) single.add(captioner.caption(im).text());
      assertEquals(batched, single, "one by one = batched");
      assertEquals(batched, concurrently(8, images, im -> captioner.caption(im).text()), "8 threads = sequential");
    }
  }

  @Test
  void groundingBoxesEqualTheEvaluationsOneByOneAndFromEightThreads() throws Exception {
    List<JsonNode> entries = entries(SynthFiles.GROUNDING_TEST, ITEMS);
    List<ImageText> requests = entries.stream().map(e -> new ImageText(image(e), e.get("text").asText())).toList();
    TaskEvaluation eval = evaluate(Task.GROUNDING, SynthFiles.GROUNDING_TEST);
    try (MPlugModel grounder = model(Task.GROUNDING).batchSize(8).build()) {
      List<List<Float>> batched = grounder.groundAll(requests).stream().map(MPlugModelTest::corners).toList();
      System.out.println("boxes: " + batched);
      assertTrue(new HashSet<>(batched).size() >= 2, "the boxes depend on the inputs: " + batched);
      List<List<Float>> expected = new ArrayList<>();
      for (Map<String, Object> r : eval.results()) {
        @SuppressWarnings("unchecked")
        List<Float> box = (List<Float>) r.get("bbox");
        expected.add(box);
      }
      assertEquals(expected, batched, "the API's boxes are the evaluation's");
      List<List<Float>> single = new ArrayList<>();
      for (ImageText r : requests) single.add(corners(grounder.ground(r.image(), r.text())));
      assertEquals(batched, single, "one by one = batched");
      assertEquals(batched, concurrently(8, requests, r -> corners(grounder.ground(r.image(), r.text()))),
          "8 threads = sequential");
    }
  }

  @Test
  void retrievalRankingsEqualTheEvaluations() throws Exception {
    List<JsonNode> entries = entries(SynthFiles.RETRIEVAL_TEST, ITEMS);
    List<ImageInput> images = entries.stream().map(MPlugModelTest::image).toList();
    List<String> texts = new ArrayList<>();
    for (JsonNode e : entries) for (JsonNode c : e.get("caption")) texts.add(c.asText());
    TaskEvaluation eval = evaluate(Task.RETRIEVAL, SynthFiles.RETRIEVAL_TEST);
    try (MPlugModel retriever = model(Task.RETRIEVAL).batchSize(8).build()) {
      Rankings r = retriever.rank(images, texts);
      List<Object> textsByImage = new ArrayList<>();
      List<Object> imagesByText = new ArrayList<>();
      for (List<Match> m : r.textsByImage()) textsByImage.add(top10(m));
      for (List<Match> m : r.imagesByText()) imagesByText.add(top10(m));
      List<Object> expectedTexts = new ArrayList<>();
      List<Object> expectedImages = new ArrayList<>();
      for (Map<String, Object> row : eval.results()) {
        if (row.containsKey("texts")) expectedTexts.add(row.get("texts"));
        if (row.containsKey("images")) expectedImages.add(row.get("images"));
      }
      assertTrue(new HashSet<>(textsByImage).size() >= 2, "the rankings depend on the image: " + textsByImage);
      assertEquals(expectedTexts, textsByImage, "each image's best 10 texts are the evaluation's");
      assertEquals(expectedImages, imagesByText, "each text's best 10 images are the evaluation's");
      // one image alone is a batch of 1: its features round differently in the last bits (measured: 6e-8), so
      // candidates that tie (the world repeats captions) may swap; every text keeps its scores and its place otherwise
      List<Match> one = retriever.retrieve(images.get(3), texts);
      List<Match> row = r.textsByImage().get(3);
      assertEquals(texts.size(), one.size(), "k = 256 > texts: every text is re-ranked");
      Map<Integer, Match> byIndex = new HashMap<>();
      for (Match m : row) byIndex.put(m.index(), m);
      for (int i = 0; i < one.size(); i++) {
        Match alone = one.get(i);
        Match batched = byIndex.get(alone.index());
        assertEquals(batched.score(), alone.score(), 1e-5, "ITM score of text " + alone.index());
        assertEquals(batched.similarity(), alone.similarity(), 1e-5, "similarity of text " + alone.index());
        assertEquals(row.get(i).score(), alone.score(), 1e-5, "the text at place " + i + " scores as the batch's");
      }
      for (int i = 1; i < one.size(); i++) {
        assertTrue(one.get(i - 1).score() >= one.get(i).score(), "best first: " + one);
      }
    }
  }

  private static List<Integer> top10(List<Match> m) {
    return m.stream().limit(10).map(Match::index).toList();
  }

  private static List<Float> corners(BoundingBox b) {
    return List.of((float) b.x1(), (float) b.y1(), (float) b.x2(), (float) b.y2());
  }

  /** Every request answered by one of {@code threads} threads sharing the model, results in request order. */
  static <I, O> List<O> concurrently(int threads, List<I> requests, ThrowingFunction<I, O> call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<O>> futures = new ArrayList<>();
      for (I r : requests) futures.add(pool.submit(() -> call.apply(r)));
      List<O> out = new ArrayList<>();
      for (Future<O> f : futures) out.add(f.get());
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @FunctionalInterface
  interface ThrowingFunction<I, O> {
    O apply(I input) throws Exception;
  }
}
