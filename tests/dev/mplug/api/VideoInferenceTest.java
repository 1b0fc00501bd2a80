package dev.mplug.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.task.TrainedModel;
import dev.mplug.testing.HeadCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The video tasks through the API give what {@code mplug evaluate} gives on the same clips (seeded untrained demo
 * models saved with the task's parts, so both load the same weights; 2 frames a clip), batched and one by one; bad
 * clips and wrong models are one line naming them.
 */
class VideoInferenceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int FRAMES = 2;

  @TempDir static Path dir;
  static Path world;
  static Path answers;

  @BeforeAll
  static void world() throws IOException {
    world = dir.resolve("world");
    ShapesWorld.generate(world, new ShapesWorld.Config(20, 10, 3, 64, 0.3, 8));
    Set<String> distinct = new LinkedHashSet<>();
    for (JsonNode e : lines(SynthFiles.VIDEO_QA_TRAIN)) distinct.add(e.get("answer").asText());
    answers = dir.resolve("answers.json");
    JSON.writeValue(answers.toFile(), List.copyOf(distinct));
  }

  private static List<JsonNode> lines(String file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(world.resolve(file))) out.add(JSON.readTree(line));
    return out;
  }

  private static TaskEvaluation evaluated(Path checkpoint, String task, String file, int items, String... sets) {
    List<String> overrides = new ArrayList<>(List.of("video.frames=" + FRAMES));
    overrides.addAll(List.of(sets));
    DownstreamTask<?> t = Tasks.of(FinetuneConfig.defaults(task, overrides));
    MPlug model = TrainedModel.load(checkpoint, null, t).model();
    try {
      return t.evaluate(model, BertTokenizer.load(world.resolve(SynthFiles.VOCAB)),
          FinetuneConfig.Eval.of(world.resolve(file), world, items, 4));
    } finally {
      model.close();
    }
  }

  private static MPlugModel.Builder model(Path checkpoint, Task task) {
    return MPlugModel.builder(checkpoint).task(task).vocab(world.resolve(SynthFiles.VOCAB)).frames(FRAMES).threads(1)
        .batchSize(4);
  }

  private static VideoInput clip(String video) {
    return VideoInput.of(world.resolve(video));
  }

  @Test
  void clipCaptionsEqualTheEvaluationsOneByOneAndBatched() {
    Path ckpt = HeadCheckpoints.save("video-caption", dir.resolve("video-caption.safetensors"), 41);
    TaskEvaluation e = evaluated(ckpt, "video-caption", SynthFiles.VIDEO_CAPTION, 6);
    List<String> videos = e.results().stream().map(r -> (String) r.get("video_id")).toList();
    List<String> expected = e.results().stream().map(r -> (String) r.get("caption")).toList();
    assertEquals(6, videos.size());
    try (MPlugModel m = model(ckpt, Task.VIDEO_CAPTION).build()) {
      List<Caption> batched = m.captionClips(videos.stream().map(VideoInferenceTest::clip).toList());
      assertEquals(expected, batched.stream().map(Caption::text).toList());
      Set<Double> scores = new HashSet<>();
      for (int i = 0; i < videos.size(); i++) {
        Caption one = m.caption(clip(videos.get(i)));
        assertEquals(batched.get(i).text(), one.text(), "batched = one by one at " + i);
        assertEquals(batched.get(i).score(), one.score(), 1e-4);
        scores.add(Math.rint(one.score() * 1e4));
      }
      assertTrue(scores.size() > 1, "the clips get different captions or scores: " + scores);
      var wrong = assertThrows(IllegalArgumentException.class, () -> m.caption(ImageInput.of(world.resolve(
          SynthFiles.image(0)))));
      assertEquals("caption needs a caption model; " + ckpt + " is loaded for video-caption", wrong.getMessage());
    }
  }

  @Test
  void clipAnswersEqualTheEvaluationsWithTheListFromAFileOrJava() throws IOException {
    String list = "vqa.answer_list=" + answers;
    Path ckpt = HeadCheckpoints.save("video-qa", dir.resolve("video-qa.safetensors"), 42, list);
    int n = 10;
    TaskEvaluation e = evaluated(ckpt, "video-qa", SynthFiles.VIDEO_QA, n, list);
    List<VideoText> requests = lines(SynthFiles.VIDEO_QA).subList(0, n).stream()
        .map(q -> new VideoText(clip(q.get("video").asText()), q.get("question").asText())).toList();
    List<String> expected = e.results().stream().map(r -> (String) r.get("answer")).toList();
    List<Answer> batched;
    try (MPlugModel qa = model(ckpt, Task.VIDEO_QA).answers(answers).build()) {
      batched = qa.answerClips(requests);
      assertEquals(expected, batched.stream().map(Answer::text).toList());
      Set<Double> scores = new HashSet<>();
      for (int i = 0; i < n; i++) {
        Answer one = qa.answer(requests.get(i).clip(), requests.get(i).text());
        assertEquals(batched.get(i).text(), one.text(), "batched = one by one at " + i);
        assertEquals(batched.get(i).score(), one.score(), 1e-4);
        assertTrue(one.score() < 0, "log p(first token) - NLL: " + one.score());
        scores.add(Math.rint(one.score() * 1e4));
      }
      assertTrue(scores.size() > 1, "the questions get different scores: " + scores);
      var empty = assertThrows(IllegalArgumentException.class, () -> qa.answer(requests.get(0).clip(), " "));
      assertEquals("question 0 is empty", empty.getMessage());
    }
    List<String> inJava = new ArrayList<>();
    JSON.readTree(answers.toFile()).forEach(a -> inJava.add(a.asText()));
    try (MPlugModel qa = model(ckpt, Task.VIDEO_QA).answers(inJava).build()) {
      assertEquals(expected, qa.answerClips(requests).stream().map(Answer::text).toList());
    }
    var none = assertThrows(IllegalArgumentException.class, () -> model(ckpt, Task.VIDEO_QA).build());
    assertEquals("video-qa ranks an answer list, which a checkpoint does not record: give it (answers(...), --answers "
        + "FILE: a JSON list, or the official train_ans2label.json)", none.getMessage());
  }

  @Test
  void clipRankingsEqualTheEvaluations() throws IOException {
    Path ckpt = HeadCheckpoints.save("video-retrieval", dir.resolve("video-retrieval.safetensors"), 43);
    TaskEvaluation e = evaluated(ckpt, "video-retrieval", SynthFiles.VIDEO_CAPTION, 0);
    List<VideoInput> clips = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (JsonNode c : lines(SynthFiles.VIDEO_CAPTION)) {
      clips.add(clip(c.get("video").asText()));
      c.get("caption").forEach(t -> texts.add(t.asText()));
    }
    assertEquals(clips.size() + texts.size(), e.results().size());
    try (MPlugModel m = model(ckpt, Task.VIDEO_RETRIEVAL).build()) {
      Rankings r = m.rankClips(clips, texts);
      for (int i = 0; i < clips.size(); i++) {
        assertEquals(e.results().get(i).get("texts"), top10(r.textsByImage().get(i)), "texts of clip " + i);
        assertEquals(texts.size(), r.textsByImage().get(i).size(), "k (256) covers every text");
      }
      for (int t = 0; t < texts.size(); t++) {
        assertEquals(e.results().get(clips.size() + t).get("videos"), top10(r.imagesByText().get(t)), "text " + t);
      }
      List<Match> one = m.retrieve(clips.get(3), texts);
      List<Match> inBatch = r.textsByImage().get(3);
      assertEquals(top10(inBatch), top10(one));
      for (int j = 0; j < one.size(); j++) {
        assertEquals(inBatch.get(j).score(), one.get(j).score(), 1e-4);
        assertEquals(inBatch.get(j).similarity(), one.get(j).similarity(), 1e-5);
        if (j > 0) assertTrue(one.get(j).score() <= one.get(j - 1).score(), "best first");
      }
    }
  }

  private static List<Integer> top10(List<Match> ranked) {
    return ranked.stream().limit(10).map(Match::index).toList();
  }

  @Test
  void badClipsAndWrongModelsAreOneLine() throws IOException {
    Path mp4 = Files.write(dir.resolve("clip9.mp4"), new byte[] {0, 0, 0, 24, 'f', 't', 'y', 'p'});
    assertEquals("video " + mp4 + ": cannot decode .mp4 (this OpenCV build has no FFmpeg): extract its frames to the "
        + "folder clip9/ with `mkdir -p clip9 && ffmpeg -i clip9.mp4 -vf fps=4 -q:v 2 clip9/%05d.jpg` and name the "
        + "clip without extension", assertThrows(IllegalArgumentException.class, () -> VideoInput.of(mp4))
        .getMessage());
    Path missing = dir.resolve("nowhere");
    assertEquals("video " + missing + ": video not found (looked for the file, a frame folder of that name and "
        + "nowhere.avi)", assertThrows(IllegalArgumentException.class, () -> VideoInput.of(missing)).getMessage());
    Path empty = Files.createDirectories(dir.resolve("empty"));
    assertEquals("video " + empty + ": frame folder holds no .jpg or .png frame",
        assertThrows(IllegalArgumentException.class, () -> VideoInput.of(empty)).getMessage());
    assertEquals("upload: the clip has no frames",
        assertThrows(IllegalArgumentException.class, () -> VideoInput.ofFrames(List.of(), "upload")).getMessage());

    Path caption = HeadCheckpoints.save("video-caption", dir.resolve("caption-parts.safetensors"), 44);
    String lacks = assertThrows(IllegalArgumentException.class,
        () -> model(caption, Task.VIDEO_QA).answers(List.of("up", "down")).build()).getMessage();
    assertTrue(lacks.startsWith("--checkpoint " + caption + " lacks ") && lacks.contains("parameters of this task's "
        + "model, e.g. "), lacks);
    assertEquals("frames are for video models, not caption", assertThrows(IllegalArgumentException.class,
        () -> MPlugModel.builder(caption).task(Task.CAPTION).frames(4).vocab(world.resolve(SynthFiles.VOCAB)).build())
        .getMessage());
    assertEquals("an answer list is for video-qa models, not video-caption", assertThrows(
        IllegalArgumentException.class, () -> model(caption, Task.VIDEO_CAPTION).answers(answers).build())
        .getMessage());
    assertEquals("answer list " + dir.resolve("none.json") + " does not exist", assertThrows(
        IllegalArgumentException.class, () -> model(caption, Task.VIDEO_QA).answers(dir.resolve("none.json"))
        .build()).getMessage());
    VideoInput first = clip(lines(SynthFiles.VIDEO_CAPTION).get(0).get("video").asText());
    try (MPlugModel m = model(caption, Task.VIDEO_CAPTION).build()) {
      assertEquals("rank clips needs a video-retrieval model; " + caption + " is loaded for video-caption",
          assertThrows(IllegalArgumentException.class, () -> m.rankClips(List.of(first), List.of("a red circle")))
          .getMessage());
    }
  }
}
