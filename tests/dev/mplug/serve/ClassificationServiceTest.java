package dev.mplug.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.api.ImageInput;
import dev.mplug.api.Judgement;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.testing.HeadCheckpoints;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SNLI-VE and NLVR2 over HTTP: the service's verdicts are the API's; NLVR2 needs its second image. */
class ClassificationServiceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  @TempDir static Path dir;
  static Path world;

  @BeforeAll
  static void world() {
    world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 64));
  }

  private static byte[] image(int i) throws Exception {
    return Files.readAllBytes(world.resolve(SynthFiles.image(i)));
  }

  private static HttpResponse<String> post(int port, String type, byte[] body) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/predict"))
        .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static MPlugModel model(String task, Task t, long seed) {
    Path file = HeadCheckpoints.save(task, world.resolve(task + ".safetensors"), seed);
    return MPlugModel.builder(file).task(t).vocab(world.resolve(SynthFiles.VOCAB)).threads(1).build();
  }

  private static void assertVerdict(Judgement expected, JsonNode got) {
    assertEquals(expected.label(), got.get("label").asText(), got.toString());
    expected.probabilities().forEach((k, v) -> assertEquals(v, got.get("probabilities").get(k).asDouble(), 1e-6, k));
  }

  @Test
  void entailmentOverJsonEqualsTheApi() throws Exception {
    try (MPlugModel ve = model("snli-ve", Task.SNLI_VE, 31)) {
      InferenceServer server = InferenceServer.start(ve, ServerConfig.local(0));
      try {
        String text = "there is a blue square";
        HttpResponse<String> r = post(server.port(), "application/json", JSON.writeValueAsBytes(Map.of(
            "image", Base64.getEncoder().encodeToString(image(2)), "text", text)));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("snli-ve", body.get("task").asText());
        assertVerdict(ve.entail(ImageInput.of(image(2), "image"), text), body);
      } finally {
        server.stop();
      }
    }
  }

  @Test
  void nlvr2OverMultipartEqualsTheApiAndNeedsTheSecondImage() throws Exception {
    try (MPlugModel nlvr2 = model("nlvr2", Task.NLVR2, 32)) {
      InferenceServer server = InferenceServer.start(nlvr2, ServerConfig.local(0));
      try {
        String text = "the left image has a star";
        String boundary = "b0undary";
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n" + text + "\r\n")
            .getBytes(StandardCharsets.UTF_8));
        for (String name : new String[] {"image", "image2"}) {
          b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\""
              + name + ".jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.UTF_8));
          b.writeBytes(image(name.equals("image") ? 3 : 4));
          b.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        b.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = post(server.port(), "multipart/form-data; boundary=" + boundary, b.toByteArray());
        assertEquals(200, r.statusCode(), r.body());
        assertVerdict(nlvr2.verify(ImageInput.of(image(3), "image"), ImageInput.of(image(4), "image2"), text),
            JSON.readTree(r.body()));
        HttpResponse<String> missing = post(server.port(), "application/json", JSON.writeValueAsBytes(Map.of(
            "image", Base64.getEncoder().encodeToString(image(3)), "text", text)));
        assertEquals(400, missing.statusCode());
        assertEquals("missing field image2 (the right image of the pair)",
            JSON.readTree(missing.body()).get("error").asText());
      } finally {
        server.stop();
      }
    }
  }
}
