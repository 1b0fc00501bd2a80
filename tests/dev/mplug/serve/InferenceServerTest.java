package dev.mplug.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.api.ImageInput;
import dev.mplug.api.ImageText;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.testing.HeadCheckpoints;
import dev.mplug.testing.NativeMemoryTrend;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service under a bounded local load (127.0.0.1 only): 16 clients send good requests (JSON and multipart) mixed
 * with bad ones. Every good request is answered, with the answer the API gives directly (a 503 is retried, as its
 * Retry-After asks); every bad one is refused with its status and reason; the service stays up, every native object
 * a request made (tensors above all) is released by the time it is answered, and the native memory outside the JVM
 * (where tensors live) stays flat.
 */
class InferenceServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String QUESTION = "what color is the shape?";

  @TempDir static Path dir;
  static Path world;
  static MPlugModel model;
  static HttpClient client;

  @BeforeAll
  static void model() throws IOException {
    world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 64));
    Path file = HeadCheckpoints.demo(world.resolve("demo.safetensors"), 9);
    model = MPlugModel.builder(file).task(Task.VQA).threads(1).build();
    client = HttpClient.newHttpClient();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static byte[] image(int i) throws IOException {
    return Files.readAllBytes(world.resolve(SynthFiles.image(i)));
  }

  private static HttpResponse<String> post(int port, String contentType, byte[] body) throws Exception {
    HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/predict"))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    return client.send(r, HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> send(int port, Case c) throws IOException {
    try {
      return post(port, c.contentType(), c.body());
    } catch (Exception e) {
      throw new IOException(c.name() + ": " + e.getMessage(), e);
    }
  }

  private static byte[] json(Map<String, Object> fields) throws IOException {
    return JSON.writeValueAsBytes(fields);
  }

  private static byte[] multipart(String boundary, byte[] image, String text) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n" + text + "\r\n")
        .getBytes(StandardCharsets.UTF_8));
    b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
        + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    b.writeBytes(image);
    b.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return b.toByteArray();
  }

  /** One request of the load and what it must get back. */
  private record Case(String name, String contentType, byte[] body, int status, String expected) {}

  @Test
  void goodRequestsAreAnsweredAndBadOnesRefusedUnderLoad() throws Exception {
    ServerConfig config = ServerConfig.local(0).withMaxInFlight(2).withMaxRequestBytes(64 << 10)
        .withMaxPixels(80 * 80);
    List<Case> cases = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String answer = model.answer(ImageInput.of(image(i), "image"), QUESTION).text();
      String b64 = Base64.getEncoder().encodeToString(image(i));
      cases.add(new Case("json " + i, "application/json", json(Map.of("image", b64, "text", QUESTION, "task", "vqa")),
          200, answer));
      cases.add(new Case("multipart " + i, "multipart/form-data; boundary=xyz123", multipart("xyz123", image(i),
          QUESTION), 200, answer));
    }
    String b64 = Base64.getEncoder().encodeToString(image(0));
    cases.add(new Case("not an image", "application/json", json(Map.of("image",
        Base64.getEncoder().encodeToString("hello".getBytes()), "text", QUESTION)), 400,
        "image: not a JPEG, PNG, WebP or BMP image"));
    cases.add(new Case("missing text", "application/json", json(Map.of("image", b64)), 400, "missing field text"));
    cases.add(new Case("missing image", "application/json", json(Map.of("text", QUESTION)), 400,
        "missing field image"));
    cases.add(new Case("wrong task", "application/json", json(Map.of("image", b64, "task", "caption")), 400,
        "wrong task: this server's checkpoint serves vqa, not caption"));
    cases.add(new Case("bad base64", "application/json", json(Map.of("image", "@@@", "text", QUESTION)), 400,
        "image is not valid base64"));
    cases.add(new Case("not json", "application/json", "{oops".getBytes(), 400, "the body is not valid JSON"));
    cases.add(new Case("too large", "application/json", new byte[100 << 10], 413, "request of 102400 bytes is over "
        + "the limit of 65536"));
    cases.add(new Case("too many pixels", "application/json", json(Map.of("image", Base64.getEncoder()
        .encodeToString(png(100, 100)), "text", QUESTION)), 413, "image: 100 x 100 = 10000 pixels is over the limit"));
    cases.add(new Case("plain text", "text/plain", "hi".getBytes(), 415, "Content-Type text/plain"));

    int rounds = 30;
    NativeMemoryTrend heap = new NativeMemoryTrend(rounds);
    long[] pointers = new long[rounds];
    try (InferenceServer server = InferenceServer.start(model, config)) {
      int port = server.port();
      AtomicInteger busy = new AtomicInteger();
      Map<String, Integer> served = new ConcurrentHashMap<>();
      ExecutorService clients = Executors.newFixedThreadPool(16);
      try {
        for (int round = 0; round < rounds; round++) {
          heap.sample();
          pointers[round] = Pointer.totalCount();
          List<Future<?>> futures = new ArrayList<>();
          for (Case c : cases) {
            futures.add(clients.submit(() -> {
              HttpResponse<String> r = send(port, c);
              while (r.statusCode() == 503 && c.status() != 503) {       // the queue was full: retry, as asked
                assertEquals("1", r.headers().firstValue("Retry-After").orElse(""), c.name());
                busy.incrementAndGet();
                Thread.sleep(20);
                r = send(port, c);
              }
              assertEquals(c.status(), r.statusCode(), c.name() + ": " + r.body());
              JsonNode body = JSON.readTree(r.body());
              String got = c.status() == 200 ? body.get("answer").asText() : body.get("error").asText();
              assertTrue(c.status() == 200 ? got.equals(c.expected()) : got.startsWith(c.expected()),
                  c.name() + ": expected " + c.expected() + ", got " + got);
              served.merge(c.name(), 1, Integer::sum);
              return null;
            }));
          }
          for (Future<?> f : futures) f.get();
        }
      } finally {
        clients.shutdownNow();
      }
      HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      System.out.printf("served %d requests x %d rounds; %d refused with 503 and retried; native memory outside the "
          + "JVM by round (KiB) %s; live JavaCPP pointers by round %s; %s%n", cases.size(), rounds, busy.get(),
          Arrays.toString(heap.kib()), Arrays.toString(pointers), health.body());
      assertEquals(200, health.statusCode());
      assertEquals("ok", JSON.readTree(health.body()).get("status").asText());
      for (Case c : cases) assertEquals(rounds, served.get(c.name()), c.name());
      assertTrue(busy.get() > 0, "16 clients against 2 admitted requests were never refused with 503");
      // the first rounds fill caches (oneDNN primitives, JIT-compiled Java holding native handles); after them, a
      // request that left one tensor behind would raise the count by one per request
      for (int round = rounds / 3; round < rounds; round++) {
        assertEquals(pointers[rounds / 3], pointers[round], "live JavaCPP pointers at the start of round " + round);
      }
      heap.assertFlatSince(rounds / 3, 4 * 1024, rounds + " rounds of " + cases.size() + " requests");
    }
  }

  @Test
  void unknownPathsAndMethodsAreRefusedAndStopIsGraceful() throws Exception {
    InferenceServer server = InferenceServer.start(model, ServerConfig.local(0));
    int port = server.port();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/nope"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(404, r.statusCode());
    assertEquals("no endpoint /nope (POST /predict, GET /health)", JSON.readTree(r.body()).get("error").asText());
    r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/predict")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(405, r.statusCode());
    // a request admitted when stop() is called still gets its answer: the model is kept busy by a batch of 8, the
    // request is admitted and waits for it, then the server stops
    ExecutorService callers = Executors.newFixedThreadPool(2);
    List<ImageText> batch = new ArrayList<>();
    for (int i = 0; i < 8; i++) batch.add(new ImageText(ImageInput.of(image(i % 4), "image"), QUESTION));
    Future<?> busy = callers.submit(() -> model.answerAll(batch));
    Future<HttpResponse<String>> inFlight = callers.submit(() -> post(port, "application/json",
        json(Map.of("image", Base64.getEncoder().encodeToString(image(1)), "text", QUESTION))));
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!inFlight.isDone() && System.nanoTime() < deadline) {
      HttpResponse<String> h = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
          .build(), HttpResponse.BodyHandlers.ofString());
      if (JSON.readTree(h.body()).get("in_flight").asInt() == 1) break;
      Thread.sleep(2);
    }
    server.stop();
    busy.get();
    callers.shutdown();
    assertEquals(200, inFlight.get().statusCode(), inFlight.get().body());
    assertEquals(model.answer(ImageInput.of(image(1), "image"), QUESTION).text(),
        JSON.readTree(inFlight.get().body()).get("answer").asText());
  }

  private static byte[] png(int w, int h) throws IOException {
    BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(im, "png", out);
    return out.toByteArray();
  }
}
