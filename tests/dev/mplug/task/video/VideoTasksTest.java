package dev.mplug.task.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.image.Images;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.video.VideoFrames;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.task.caption.CaptionBatch;
import dev.mplug.task.caption.CaptionEvaluation;
import dev.mplug.task.retrieval.RetrievalBatch;
import dev.mplug.task.vqa.VqaBatch;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.train.Batches;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three video tasks as {@code mplug finetune} / {@code evaluate} see them: the shipped configs, the config checks,
 * training batches of clips, evaluations of a small shapes world whose results agree with their metrics, the official
 * annotation formats over frame folders, and the error for an .mp4.
 */
class VideoTasksTest {
  @TempDir static Path world;
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void makeWorld() {
    ShapesWorld.generate(world, new ShapesWorld.Config(20, 10, 3, 32, 0.3, 8));   // 3 test clips
  }

  private static FinetuneConfig config(String task, String train, String test, String... sets) {
    List<String> all = new ArrayList<>(List.of("data.annotations=" + world.resolve(train), "data.root=" + world,
        "eval.annotations=" + world.resolve(test), "video.frames=2", "data.batch_size=4", "data.workers=0"));
    all.addAll(List.of(sets));
    return FinetuneConfig.load(task + "-demo", all);
  }

  private static FinetuneConfig qa(String... sets) {
    return config("video-qa", SynthFiles.VIDEO_QA_TRAIN, SynthFiles.VIDEO_QA_TEST, sets);
  }

  private static FinetuneConfig captions(String task, String... sets) {
    return config(task, SynthFiles.VIDEO_CAPTION_TRAIN, SynthFiles.VIDEO_CAPTION_TEST, sets);
  }

  private static BertTokenizer tokenizer() {
    return BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
  }

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) out.add(JSON.readTree(line));
    return out;
  }

  @Test
  void theShippedConfigsBuildTheTasks() {
    Map<String, List<String>> metrics = Map.of(
        "video-retrieval", List.of("r_mean", "txt_r1", "txt_r5", "txt_r10", "vid_r1", "vid_r5", "vid_r10"),
        "video-qa", List.of("accuracy"), "video-caption", CaptionEvaluation.METRICS);
    Map<String, EnumSet<Part>> parts = Map.of(
        "video-retrieval", EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.ITC_ITM_HEADS),
        "video-qa", EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER),
        "video-caption", EnumSet.of(Part.VISION, Part.DECODER));
    for (String task : List.of("video-retrieval", "video-qa", "video-caption")) {
      assertTrue(Tasks.names().contains(task), task);
      for (String size : List.of("demo", "base", "large")) {
        FinetuneConfig c = FinetuneConfig.load(task + "-" + size, List.of());
        DownstreamTask<?> t = Tasks.of(c);
        assertEquals(task, t.name());
        assertEquals(metrics.get(task), t.metrics(), task);
        assertEquals(parts.get(task), t.parts(), task);
      }
    }
    assertEquals(4, FinetuneConfig.load("video-qa-demo", List.of()).file().getVideo().getFrames());
    assertEquals(12, FinetuneConfig.load("video-retrieval-base", List.of()).file().getVideo().getFrames());
    assertEquals(128, FinetuneConfig.load("video-retrieval-base", List.of()).file().getRetrieval().getK());
    assertEquals("a picture of", FinetuneConfig.load("video-caption-base", List.of()).file().getCaption().getPrompt());
  }

  @Test
  void badVideoSettingsFailWithTheKeyNamed() {
    FinetuneConfig zero = qa("video.frames=0");
    assertEquals("video.frames must be 1..64, got 0",
        assertThrows(IllegalArgumentException.class, () -> Tasks.of(zero)).getMessage());
    FinetuneConfig noAnswers = FinetuneConfig.defaults("video-qa", List.of());
    assertEquals("video-qa ranks an answer list: set vqa.answer_list (a JSON list, or the official "
        + "train_ans2label.json) or data.annotations (its answers are the list)",
        assertThrows(IllegalArgumentException.class, () -> Tasks.of(noAnswers)).getMessage());
    FinetuneConfig scst = captions("video-caption", "caption.scst=true");
    assertEquals("caption.scst: self-critical training is not implemented for video-caption",
        assertThrows(IllegalArgumentException.class, () -> Tasks.of(scst)).getMessage());
  }

  @Test
  void trainingBatchesHoldClips() {
    BertTokenizer tok = tokenizer();
    try (TensorScope scope = TensorScope.open()) {
      VideoRetrievalTask retrieval = (VideoRetrievalTask) Tasks.of(captions("video-retrieval"));
      try (Batches<RetrievalBatch> data = retrieval.trainingData(tok, 5, 0, 1)) {
        RetrievalBatch b = data.next();
        assertArrayEquals(new long[] {4, 2, 3, 64, 64}, Tensors.shape(b.images()), "[B, F, 3, R, R]");
        assertArrayEquals(new long[] {0, 1, 2, 3}, Tensors.toLongs(b.imageIds()), "four different clips");
      }
      VideoQaTask qa = (VideoQaTask) Tasks.of(qa());
      try (Batches<VqaBatch> data = qa.trainingData(tok, 5, 0, 1)) {
        VqaBatch b = data.next();
        assertArrayEquals(new long[] {4, 2, 3, 64, 64}, Tensors.shape(b.images()));
        assertArrayEquals(new long[] {1, 1, 1, 1}, Tensors.toLongs(b.answerCounts()), "one answer per question");
        long[] first = Tensors.toLongs(b.answerIds().select(0, 0));
        int sep = tok.vocabulary().sepId();
        int seps = 0;
        for (long id : first) if (id == sep) seps++;
        assertEquals(2, seps, "answer [SEP] [SEP], as VQA trains");
      }
      VideoCaptionTask caption = (VideoCaptionTask) Tasks.of(captions("video-caption"));
      try (Batches<CaptionBatch> data = caption.trainingData(tok, 5, 0, 1)) {
        CaptionBatch b = data.next();
        assertArrayEquals(new long[] {4, 2, 3, 64, 64}, Tensors.shape(b.images()));
        long[] row = Tensors.toLongs(b.ids().select(0, 0));
        int[] prompt = tok.tokenIds("a picture of");
        assertEquals(tok.vocabulary().clsId(), row[0]);
        for (int i = 0; i < prompt.length; i++) assertEquals(prompt[i], row[1 + i], "the prompt starts each target");
      }
    }
  }

  @Test
  void evaluationsWriteTheirResultsAndAgreeWithThem() throws IOException {
    Seeds.fresh("evaluationsWriteTheirResultsAndAgreeWithThem");
    BertTokenizer tok = tokenizer();
    List<JsonNode> clips = lines(world.resolve(SynthFiles.VIDEO_CAPTION_TEST));
    List<JsonNode> questions = lines(world.resolve(SynthFiles.VIDEO_QA_TEST));
    try (TensorScope scope = TensorScope.open()) {
      FinetuneConfig rc = captions("video-retrieval", "retrieval.k=3");
      DownstreamTask<?> retrieval = Tasks.of(rc);
      MPlug model = new MPlug(rc.model().withParts(retrieval.parts()));
      model.train(true);
      TaskEvaluation r = retrieval.evaluate(model, tok, rc.eval());
      assertTrue(model.is_training(), "the model's mode is restored");
      int texts = 0;
      for (JsonNode c : clips) texts += c.get("caption").size();
      assertEquals(clips.size() + texts, r.results().size(), "a row per clip, then one per caption");
      assertEquals(clips.get(0).get("video").asText(), r.results().get(0).get("video"));
      assertEquals(List.of("text_id", "videos"), List.copyOf(r.results().get(clips.size()).keySet()));
      double mean = 0;
      for (String k : List.of("txt_r1", "txt_r5", "txt_r10", "vid_r1", "vid_r5", "vid_r10")) mean += r.metric(k) / 6;
      assertEquals(mean, r.metric("r_mean"), 1e-9);
      assertEquals(100, r.metric("vid_r5"), 1e-9, "3 clips: every gold within 5");

      FinetuneConfig qc = qa("vqa.answer_list_k=3");
      DownstreamTask<?> qa = Tasks.of(qc);
      MPlug qaModel = new MPlug(qc.model().withParts(qa.parts()));
      TaskEvaluation q = qa.evaluate(qaModel, tok, qc.eval());
      assertEquals(questions.size(), q.results().size());
      Set<String> trainAnswers = new HashSet<>();
      for (JsonNode e : lines(world.resolve(SynthFiles.VIDEO_QA_TRAIN))) trainAnswers.add(e.get("answer").asText());
      int right = 0;
      for (int i = 0; i < questions.size(); i++) {
        Map<String, Object> row = q.results().get(i);
        assertEquals(i, row.get("question_id"), "the line's index");
        assertTrue(trainAnswers.contains((String) row.get("answer")), "ranked from the training answers");
        if (row.get("answer").equals(questions.get(i).get("answer").asText())) right++;
      }
      assertEquals(100.0 * right / questions.size(), q.metric("accuracy"), 1e-9);

      FinetuneConfig cc = captions("video-caption");
      DownstreamTask<?> caption = Tasks.of(cc);
      TaskEvaluation c = caption.evaluate(new MPlug(cc.model().withParts(caption.parts())), tok, cc.eval());
      assertEquals(clips.size(), c.results().size());
      assertEquals(Map.of("video_id", clips.get(1).get("video").asText(), "caption", c.results().get(1).get("caption")),
          c.results().get(1));
      assertEquals(CaptionEvaluation.METRICS, List.copyOf(c.metrics().keySet()));
    }
  }

  @Test
  void theOfficialFormatsOverFrameFolders() throws IOException {
    Seeds.fresh("theOfficialFormatsOverFrameFolders");
    Path official = Files.createDirectories(world.resolve("official"));
    List<JsonNode> clips = lines(world.resolve(SynthFiles.VIDEO_CAPTION_TEST));
    StringBuilder msrvtt = new StringBuilder();
    List<Map<String, Object>> vatex = new ArrayList<>();
    StringBuilder msrvttQa = new StringBuilder();
    for (int i = 0; i < clips.size(); i++) {
      String name = "video" + (7010 + i);
      Path folder = Files.createDirectories(official.resolve(name));   // what ffmpeg would extract
      List<Mat> frames = VideoFrames.sample(world.resolve(clips.get(i).get("video").asText()), 8);
      for (int f = 0; f < frames.size(); f++) Files.write(folder.resolve(String.format("%05d.jpg", f + 1)),
          Images.toJpeg(frames.get(f), 95));
      frames.forEach(Mat::close);
      List<String> caps = new ArrayList<>();
      clips.get(i).get("caption").forEach(c -> caps.add(c.asText()));
      msrvtt.append(JSON.writeValueAsString(Map.of("clip_name", name, "caption", caps.get(0)))).append('\n');
      vatex.add(Map.of("videoID", name, "enCap", caps));
      msrvttQa.append(JSON.writeValueAsString(Map.of("video_id", name, "question", "how many shapes are there?",
          "answer", "1"))).append('\n');
    }
    Files.writeString(official.resolve("msrvtt_test.jsonl"), msrvtt);
    JSON.writeValue(official.resolve("vatex_test.json").toFile(), vatex);
    Files.writeString(official.resolve("test.jsonl"), msrvttQa);
    Files.writeString(official.resolve("train_ans2label.json"), "{\"1\": 0, \"2\": 1, \"up\": 2}");
    BertTokenizer tok = tokenizer();
    try (TensorScope scope = TensorScope.open()) {
      FinetuneConfig rc = captions("video-retrieval", "eval.annotations=" + official.resolve("msrvtt_test.jsonl"));
      DownstreamTask<?> retrieval = Tasks.of(rc);
      TaskEvaluation r = retrieval.evaluate(new MPlug(rc.model().withParts(retrieval.parts())), tok, rc.eval());
      assertEquals(2 * clips.size(), r.results().size(), "one caption per MSRVTT clip");
      assertEquals("video7010", r.results().get(0).get("video"));

      FinetuneConfig qc = qa("eval.annotations=" + official.resolve("test.jsonl"),
          "vqa.answer_list=" + official.resolve("train_ans2label.json"));
      DownstreamTask<?> qa = Tasks.of(qc);
      TaskEvaluation q = qa.evaluate(new MPlug(qc.model().withParts(qa.parts())), tok, qc.eval());
      assertEquals(clips.size(), q.results().size());
      for (Map<String, Object> row : q.results()) {
        assertTrue(Set.of("1", "2", "up").contains((String) row.get("answer")), "the answers are the file's keys");
      }

      FinetuneConfig cc = captions("video-caption", "eval.annotations=" + official.resolve("vatex_test.json"));
      DownstreamTask<?> caption = Tasks.of(cc);
      TaskEvaluation c = caption.evaluate(new MPlug(cc.model().withParts(caption.parts())), tok, cc.eval());
      assertEquals("video7011", c.results().get(1).get("video_id"));
    }
  }

  @Test
  void anMp4ClipStopsTheEvaluationWithTheConversionCommand() throws IOException {
    Path file = world.resolve("mp4_test.jsonl");
    Files.writeString(file, "{\"clip_name\": \"video9\", \"caption\": \"a red circle moves up\"}\n");
    Files.write(world.resolve("video9.mp4"), new byte[] {0, 0, 0, 24, 'f', 't', 'y', 'p'});
    FinetuneConfig cfg = captions("video-caption", "eval.annotations=" + file);
    DownstreamTask<?> task = Tasks.of(cfg);
    try (TensorScope scope = TensorScope.open()) {
      MPlug model = new MPlug(cfg.model().withParts(task.parts()));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> task.evaluate(model, tokenizer(), cfg.eval()));
      assertEquals("eval.annotations: " + file + " entry 0: video " + world.resolve("video9.mp4") + ": cannot decode "
          + ".mp4 (this OpenCV build has no FFmpeg): extract its frames to the folder video9/ with `mkdir -p video9 "
          + "&& ffmpeg -i video9.mp4 -vf fps=4 -q:v 2 video9/%05d.jpg` and name the clip without extension",
          e.getMessage());
    }
  }
}
