package dev.mplug.cli;

import static dev.mplug.cli.CliErrorsTest.assertOneLine;
import static dev.mplug.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.api.Caption;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Match;
import dev.mplug.api.Task;
import dev.mplug.api.VideoInput;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.testing.HeadCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mplug caption --video}, {@code vqa --video} and {@code retrieve --videos} on untrained demo models of the
 * video tasks (vocab.txt beside them): each prints what the API returns; a missing clip, an .mp4, an empty frame
 * folder and a checkpoint fine-tuned for another task are one line and exit 2.
 */
class VideoCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static Path world;
  static List<Path> clips;

  @BeforeAll
  static void world() throws Exception {
    world = dir.resolve("world");
    ShapesWorld.generate(world, new ShapesWorld.Config(20, 4, 3, 64, 0.3, 8));
    clips = new ArrayList<>();
    for (String line : Files.readAllLines(world.resolve(SynthFiles.VIDEO_CAPTION))) {
      clips.add(world.resolve(JSON.readTree(line).get("video").asText()));
    }
  }

  private static String checkpoint(String task, long seed, String... sets) {
    return HeadCheckpoints.save(task, world.resolve(task + ".safetensors"), seed, sets).toString();
  }

  private static MPlugModel.Builder api(String checkpoint, Task task) {
    return MPlugModel.builder(Path.of(checkpoint)).task(task).frames(2).threads(1);
  }

  @Test
  void captionVqaAndRetrievePrintTheApisAnswersForClips() throws Exception {
    String caption = checkpoint("video-caption", 61);
    CliErrorsTest.Result r = run("caption", "--video", clips.get(0).toString(), clips.get(1).toString(),
        "--checkpoint", caption, "--frames", "2", "--max-length", "6", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode rows = JSON.readTree(r.out());
    assertEquals(2, rows.size());
    assertEquals(clips.get(1).toString(), rows.get(1).get("video").asText());
    try (MPlugModel m = api(caption, Task.VIDEO_CAPTION).maxLength(6).build()) {
      Caption c = m.caption(VideoInput.of(clips.get(1)));
      assertEquals(c.text(), rows.get(1).get("caption").asText());
      assertEquals(c.score(), rows.get(1).get("score").asDouble(), 1e-9);
    }

    Path answers = Files.writeString(dir.resolve("answers.json"), "[\"up\", \"down\", \"left\", \"right\", \"1\"]");
    String qa = checkpoint("video-qa", 62, "vqa.answer_list=" + answers);
    r = run("vqa", "--video", clips.get(2).toString(), "which way does it move?", "--checkpoint", qa, "--frames", "2",
        "--answers", answers.toString());
    assertEquals(0, r.code(), r.err());
    try (MPlugModel m = api(qa, Task.VIDEO_QA).answers(answers).build()) {
      assertEquals(m.answer(VideoInput.of(clips.get(2)), "which way does it move?").text() + "\n", r.out());
    }
    assertEquals("mplug vqa: video-qa ranks an answer list, which a checkpoint does not record: give it (answers(...), "
        + "--answers FILE: a JSON list, or the official train_ans2label.json)", assertOneLine(run("vqa", "--video",
        clips.get(2).toString(), "which way?", "--checkpoint", qa), 2, "mplug vqa: "));

    Path folder = Files.createDirectories(dir.resolve("clips"));
    Files.copy(clips.get(0), folder.resolve("a.avi"));
    Files.copy(clips.get(1), folder.resolve("b.avi"));
    Files.writeString(folder.resolve("notes.txt"), "not a clip");
    Path texts = Files.writeString(dir.resolve("texts.txt"), "a red circle moves up\n\na blue square moves down\n"
        + "two shapes move left\n");
    String retrieval = checkpoint("video-retrieval", 63);
    r = run("retrieve", "--videos", folder.toString(), "--texts", texts.toString(), "--top", "2", "--checkpoint",
        retrieval, "--frames", "2", "--json");
    assertEquals(0, r.code(), r.err());
    rows = JSON.readTree(r.out());
    assertEquals(2, rows.size(), "the two clips, not notes.txt");
    assertEquals(folder.resolve("b.avi").toString(), rows.get(1).get("video").asText());
    assertEquals(2, rows.get(1).get("texts").size());
    List<String> candidates = List.of("a red circle moves up", "a blue square moves down", "two shapes move left");
    try (MPlugModel m = api(retrieval, Task.VIDEO_RETRIEVAL).build()) {
      List<Match> best = m.retrieve(VideoInput.of(folder.resolve("b.avi")), candidates);
      for (int j = 0; j < 2; j++) {
        JsonNode got = rows.get(1).get("texts").get(j);
        assertEquals(best.get(j).index(), got.get("index").asInt());
        assertEquals(candidates.get(best.get(j).index()), got.get("text").asText());
        assertEquals(best.get(j).score(), got.get("score").asDouble(), 1e-6);
      }
    }
  }

  @Test
  void badClipsAndAnotherTasksCheckpointAreOneLine() throws Exception {
    String caption = checkpoint("video-caption", 64);
    Path missing = dir.resolve("nowhere");
    assertEquals("mplug caption: video " + missing + ": video not found (looked for the file, a frame folder of that "
        + "name and nowhere.avi)", assertOneLine(run("caption", "--video", missing.toString(), "--checkpoint",
        caption), 2, "mplug caption: "));
    Path mp4 = Files.write(dir.resolve("clip7.mp4"), new byte[] {0, 0, 0, 24, 'f', 't', 'y', 'p'});
    assertEquals("mplug vqa: video " + mp4 + ": cannot decode .mp4 (this OpenCV build has no FFmpeg): extract its "
        + "frames to the folder clip7/ with `mkdir -p clip7 && ffmpeg -i clip7.mp4 -vf fps=4 -q:v 2 clip7/%05d.jpg` "
        + "and name the clip without extension", assertOneLine(run("vqa", "--video", mp4.toString(), "what moves?",
        "--checkpoint", caption), 2, "mplug vqa: "));
    Path empty = Files.createDirectories(dir.resolve("videos").resolve("empty"));
    assertEquals("mplug caption: video " + empty + ": frame folder holds no .jpg or .png frame", assertOneLine(
        run("caption", "--video", empty.toString(), "--checkpoint", caption), 2, "mplug caption: "));
    Path texts = Files.writeString(dir.resolve("t.txt"), "a red circle\n");
    assertEquals("mplug retrieve: video " + empty + ": frame folder holds no .jpg or .png frame", assertOneLine(
        run("retrieve", "--videos", empty.getParent().toString(), "--texts", texts.toString(), "--checkpoint",
            caption), 2, "mplug retrieve: "));
    assertEquals("mplug retrieve: give --images DIR or --videos DIR (one of them)", assertOneLine(run("retrieve",
        "--texts", texts.toString(), "--checkpoint", caption), 2, "mplug retrieve: "));
    assertEquals("mplug caption: frames are for video models, not caption", assertOneLine(run("caption",
        world.resolve(SynthFiles.image(0)).toString(), "--checkpoint", caption, "--frames", "2"), 2,
        "mplug caption: "));

    // a folder fine-tuned for video captioning (one step) captions clips, and is refused for video QA
    Path out = dir.resolve("run");
    CliErrorsTest.Result r = run("finetune", "--task", "video-caption", "--config", "video-caption-demo",
        "--set", "data.annotations=" + world.resolve(SynthFiles.VIDEO_CAPTION_TRAIN), "--set", "data.root=" + world,
        "--set", "eval.annotations=" + world.resolve(SynthFiles.VIDEO_CAPTION_TEST), "--set", "eval.max_items=1",
        "--set", "init.checkpoint=", "--set", "train.total_steps=1", "--set", "train.warmup_steps=0",
        "--set", "video.frames=2", "--set", "data.batch_size=2", "--set", "data.workers=0",
        "--set", "caption.max_length=4", "--set", "output_dir=" + out);
    assertEquals(0, r.code(), r.err());
    Path step;
    try (var s = Files.list(out.resolve("checkpoints"))) {
      step = s.filter(p -> p.getFileName().toString().startsWith("step-")).findFirst().orElseThrow();
    }
    String vocab = world.resolve(SynthFiles.VOCAB).toString();
    r = run("caption", "--video", clips.get(0).toString(), "--checkpoint", step.toString(), "--vocab", vocab,
        "--frames", "2", "--max-length", "4");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(clips.get(0) + "\t"), r.out());
    assertEquals("mplug vqa: checkpoint " + step + " was fine-tuned for video-caption: a video-qa model needs a "
        + "checkpoint of vqa or video-qa (or a pretrained one)", assertOneLine(run("vqa", "--video",
        clips.get(0).toString(), "what moves?", "--checkpoint", step.toString(), "--vocab", vocab, "--answers",
        texts.toString()), 2, "mplug vqa: "));
  }
}
