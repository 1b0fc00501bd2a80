package dev.mplug.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.api.Answer;
import dev.mplug.api.Caption;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Match;
import dev.mplug.api.Task;
import dev.mplug.api.VideoInput;
import dev.mplug.data.image.Images;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.video.VideoFrames;
import dev.mplug.testing.HeadCheckpoints;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The video tasks over HTTP: a clip sent as its frames (multipart or a JSON list) or as a Motion-JPEG AVI gets the
 * API's answer for the same clip (a frame folder's frames sent one by one answer as the folder does); a request
 * without a clip, or with a frame that is not an image, is a 400 naming it.
 */
class VideoServiceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static final Base64.Encoder B64 = Base64.getEncoder();

  @TempDir static Path dir;
  static Path world;
  static Path avi;
  static Path folder;
  static List<Path> frames;

  @BeforeAll
  static void world() throws Exception {
    world = dir.resolve("world");
    ShapesWorld.generate(world, new ShapesWorld.Config(20, 4, 3, 64, 0.3, 8));
    avi = world.resolve(JSON.readTree(Files.readAllLines(world.resolve(SynthFiles.VIDEO_CAPTION)).get(0))
        .get("video").asText());
    folder = Files.createDirectories(dir.resolve("clip0"));   // the clip as ffmpeg would extract it
    frames = new ArrayList<>();
    List<Mat> decoded = VideoFrames.sample(avi, 8);
    for (int f = 0; f < decoded.size(); f++) {
      frames.add(Files.write(folder.resolve(String.format("%05d.png", f + 1)), Images.toPng(decoded.get(f))));
    }
    decoded.forEach(Mat::close);
  }

  private static MPlugModel.Builder model(String task, Task t, long seed, String... sets) {
    Path file = HeadCheckpoints.save(task, world.resolve(task + ".safetensors"), seed, sets);
    return MPlugModel.builder(file).task(t).vocab(world.resolve(SynthFiles.VOCAB)).frames(3).threads(1);
  }

  private static HttpResponse<String> post(InferenceServer server, String type, byte[] body) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/predict"))
        .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> postJson(InferenceServer server, Map<String, Object> body) throws Exception {
    return post(server, "application/json", JSON.writeValueAsBytes(body));
  }

  private static JsonNode ok(HttpResponse<String> r) throws Exception {
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  private static List<String> base64Frames() throws Exception {
    List<String> out = new ArrayList<>();
    for (Path f : frames) out.add(B64.encodeToString(Files.readAllBytes(f)));
    return out;
  }

  /** The multipart body of text fields and files (name, bytes), in order. */
  private static byte[] multipart(String boundary, List<Map.Entry<String, byte[]>> fields) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> f : fields) {
      b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"; filename=\"f\""
          + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      b.writeBytes(f.getValue());
      b.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    b.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return b.toByteArray();
  }

  @Test
  void captionsOfFramesAndOfAnAviEqualTheApis() throws Exception {
    try (MPlugModel model = model("video-caption", Task.VIDEO_CAPTION, 51).build();
        InferenceServer server = InferenceServer.start(model, ServerConfig.local(0))) {
      List<Map.Entry<String, byte[]>> parts = new ArrayList<>();
      for (Path f : frames) parts.add(Map.entry("frame", Files.readAllBytes(f)));
      JsonNode byFrames = ok(post(server, "multipart/form-data; boundary=xyz", multipart("xyz", parts)));
      Caption ofFolder = model.caption(VideoInput.of(folder));
      assertEquals("video-caption", byFrames.get("task").asText());
      assertEquals(ofFolder.text(), byFrames.get("caption").asText());
      assertEquals(ofFolder.score(), byFrames.get("score").asDouble(), 1e-6);

      JsonNode byAvi = ok(postJson(server, Map.of("video", B64.encodeToString(Files.readAllBytes(avi)))));
      Caption ofAvi = model.caption(VideoInput.of(avi));
      assertEquals(ofAvi.text(), byAvi.get("caption").asText());
      assertEquals(ofAvi.score(), byAvi.get("score").asDouble(), 1e-6);

      HttpResponse<String> image = postJson(server, Map.of("image", B64.encodeToString(Files.readAllBytes(
          frames.get(0)))));
      assertEquals(400, image.statusCode());
      assertEquals("missing field frames or video (the clip: its frames as images, in order, or a Motion-JPEG AVI)",
          JSON.readTree(image.body()).get("error").asText());
      HttpResponse<String> notAFrame = postJson(server, Map.of("frames", List.of(base64Frames().get(0),
          B64.encodeToString("hello".getBytes(StandardCharsets.UTF_8)))));
      assertEquals(400, notAFrame.statusCode());
      assertEquals("frame 1: not a JPEG, PNG, WebP or BMP image (5 bytes starting 68656c6c6f)",
          JSON.readTree(notAFrame.body()).get("error").asText());
      HttpResponse<String> notAnAvi = postJson(server, Map.of("video", B64.encodeToString(Files.readAllBytes(
          frames.get(0)))));
      assertEquals(400, notAnAvi.statusCode());
      String error = JSON.readTree(notAnAvi.body()).get("error").asText();
      assertEquals("video: OpenCV cannot open the video (", error.substring(0, Math.min(error.length(), 37)), error);
    }
  }

  @Test
  void answersAndRankingsOfAClipEqualTheApis() throws Exception {
    String question = "which direction does the shape move?";
    Path answers = Files.writeString(dir.resolve("answers.json"), "[\"up\", \"down\", \"left\", \"right\", \"2\"]");
    try (MPlugModel model = model("video-qa", Task.VIDEO_QA, 52, "vqa.answer_list=" + answers).answers(answers).build();
        InferenceServer server = InferenceServer.start(model, ServerConfig.local(0))) {
      JsonNode got = ok(postJson(server, Map.of("frames", base64Frames(), "text", question, "task", "video-qa")));
      Answer expected = model.answer(VideoInput.of(folder), question);
      assertEquals(expected.text(), got.get("answer").asText());
      assertEquals(expected.score(), got.get("score").asDouble(), 1e-6);
      HttpResponse<String> wrong = postJson(server, Map.of("frames", base64Frames(), "text", question, "task", "vqa"));
      assertEquals(400, wrong.statusCode());
      assertEquals("wrong task: this server's checkpoint serves video-qa, not vqa",
          JSON.readTree(wrong.body()).get("error").asText());
    }
    List<String> texts = List.of("a red circle moves up", "a blue square moves to the left", "two shapes move down");
    try (MPlugModel model = model("video-retrieval", Task.VIDEO_RETRIEVAL, 53).build();
        InferenceServer server = InferenceServer.start(model, ServerConfig.local(0))) {
      List<Map.Entry<String, byte[]>> parts = new ArrayList<>();
      parts.add(Map.entry("video", Files.readAllBytes(avi)));
      for (String t : texts) parts.add(Map.entry("text", t.getBytes(StandardCharsets.UTF_8)));
      JsonNode got = ok(post(server, "multipart/form-data; boundary=b0", multipart("b0", parts)));
      List<Match> expected = model.retrieve(VideoInput.of(avi), texts);
      assertEquals(texts.size(), got.get("matches").size());
      for (int j = 0; j < expected.size(); j++) {
        JsonNode m = got.get("matches").get(j);
        assertEquals(expected.get(j).index(), m.get("index").asInt());
        assertEquals(texts.get(expected.get(j).index()), m.get("text").asText());
        assertEquals(expected.get(j).score(), m.get("score").asDouble(), 1e-6);
        assertEquals(expected.get(j).similarity(), m.get("similarity").asDouble(), 1e-6);
      }
    }
  }
}
