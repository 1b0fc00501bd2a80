package dev.mplug.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mplug.api.Answer;
import dev.mplug.api.BoundingBox;
import dev.mplug.api.Caption;
import dev.mplug.api.ImageInput;
import dev.mplug.api.Judgement;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Match;
import dev.mplug.api.Task;
import dev.mplug.api.VideoInput;
import dev.mplug.data.BadSampleException;
import dev.mplug.data.image.ImageHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code mplug serve}: one {@link MPlugModel} behind a small HTTP JSON service on the JDK's built-in server.
 *
 * <pre>
 * GET  /health    200 {"status": "ok", "task", "in_flight", "max_in_flight", "answered", "refused"} (predictions)
 * POST /predict   JSON {"image": base64, "text": "...", "texts": ["..."], "task": "vqa"}   ("task" optional)
 *                 or multipart/form-data with the fields image (a file), text (retrieval: repeated), task
 *   vqa        -> {"task", "answer", "score"}          caption   -> {"task", "caption", "score"}
 *   grounding  -> {"task", "box": [x1, y1, x2, y2] (pixels), "normalized": [...], "width", "height"}
 *   retrieval  -> {"task", "matches": [{"index", "text", "similarity", "score"}]} (best first)
 *   snli-ve, nlvr2 (its right image: image2) -> {"task", "label", "probabilities"}
 *   video-qa, video-caption, video-retrieval: as vqa, caption, retrieval, the clip in place of the image:
 *                 JSON "frames": [base64 image, ...] (in order) or "video": base64 Motion-JPEG AVI;
 *                 multipart: repeated frame fields (in order) or a video field
 * </pre>
 * A clip's frames are sampled as from a frame folder (the model's F spread uniformly over those sent), so sending a
 * folder's frames gives the answer the folder gives. Zip archives and other codecs than Motion-JPEG are not read.
 *
 * <p>Refusals are JSON {@code {"error": reason}} and never stop the service: 400 a missing or malformed field, not
 * an image, a task other than the checkpoint's; 404 / 405 an unknown path or method; 413 a body over
 * {@link ServerConfig#maxRequestBytes()} or an image over {@link ServerConfig#maxPixels()} (from its header, before
 * decoding); 415 a body neither JSON nor multipart; 503 when {@link ServerConfig#maxInFlight()} requests are already
 * admitted (with {@code Retry-After: 1}) or the service is shutting down; 500 an internal error.
 *
 * <p>Admitted requests run on the handler threads, which prepare them in parallel and share the model (one forward
 * pass at a time, see {@link MPlugModel}). {@link #stop()} refuses new requests, waits up to the grace period for the
 * admitted ones and frees the threads; the model stays the caller's to close.
 */
public final class InferenceServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A refused body up to this size is read to its end before the answer goes out. */
  private static final long DRAIN_LIMIT = 64L << 20;

  private final MPlugModel model;
  private final ServerConfig config;
  private final HttpServer server;
  private final ExecutorService handlers;
  private final Semaphore admission;
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private volatile boolean stopping;

  private InferenceServer(MPlugModel model, ServerConfig config) throws IOException {
    this.model = model;
    this.config = config;
    this.admission = new Semaphore(config.maxInFlight());
    // admitted requests may all wait for the model; the extra threads answer health checks and refusals meanwhile
    this.handlers = Executors.newFixedThreadPool(config.maxInFlight() + 4, r -> {
      Thread t = new Thread(r, "mplug-serve");
      t.setDaemon(true);
      return t;
    });
    this.server = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
    server.setExecutor(handlers);
    server.createContext("/", this::handle);
  }

  /** Binds and starts serving {@code model}. */
  public static InferenceServer start(MPlugModel model, ServerConfig config) throws IOException {
    InferenceServer s = new InferenceServer(model, config);
    s.server.start();
    return s;
  }

  /** The bound port (the chosen one when the config asked for 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Prediction requests answered with 200 so far. */
  public long answered() {
    return answered.get();
  }

  /** Requests other than health checks refused (any 4xx or 5xx) so far. */
  public long refused() {
    return refused.get();
  }

  /** Refuses new requests, lets the admitted ones finish (up to the grace period), frees the threads. */
  public void stop() {
    if (stopping) return;
    stopping = true;
    server.stop(config.graceSeconds());
    handlers.shutdown();
    try {
      handlers.awaitTermination(config.graceSeconds() + 1L, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      int status;
      ObjectNode body;
      try {
        body = route(exchange);
        status = 200;
      } catch (HttpError e) {
        status = e.status();
        body = error(e.getMessage());
        if (status == 503) exchange.getResponseHeaders().set("Retry-After", "1");
      } catch (RuntimeException e) {
        status = 500;
        String m = String.valueOf(e.getMessage());
        body = error("internal error: " + e.getClass().getSimpleName() + ": " + m.lines().findFirst().orElse(""));
      }
      if (!exchange.getRequestURI().getPath().equals("/health")) {
        (status == 200 ? answered : refused).incrementAndGet();
      }
      // the client sends the whole body before it reads the answer: what a refusal left unread is read and dropped
      // (or, past DRAIN_LIMIT, the connection closed after the answer), so that the client gets the answer
      if (!drained(exchange)) exchange.getResponseHeaders().set("Connection", "close");
      byte[] bytes = JSON.writeValueAsBytes(body);
      exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Reads the rest of the request body, up to {@link #DRAIN_LIMIT} bytes; whether it reached the end. */
  private static boolean drained(HttpExchange exchange) {
    try {
      InputStream in = exchange.getRequestBody();
      byte[] sink = new byte[64 << 10];
      long read = 0;
      for (int n; (n = in.read(sink)) >= 0; ) {
        read += n;
        if (read > DRAIN_LIMIT) return false;
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private ObjectNode route(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    if (path.equals("/health")) {
      if (!method.equals("GET")) throw new HttpError(405, method + " /health: use GET");
      return health();
    }
    if (!path.equals("/predict")) throw new HttpError(404, "no endpoint " + path + " (POST /predict, GET /health)");
    if (!method.equals("POST")) throw new HttpError(405, method + " /predict: use POST");
    if (stopping) throw new HttpError(503, "the service is shutting down");
    if (!admission.tryAcquire()) {
      throw new HttpError(503, "busy: " + config.maxInFlight() + " requests in flight (the queue is full); retry "
          + "later");
    }
    try {
      return predict(Request.read(exchange, config.maxRequestBytes()));
    } finally {
      admission.release();
    }
  }

  private ObjectNode health() {
    ObjectNode o = JSON.createObjectNode().put("status", stopping ? "stopping" : "ok")
        .put("task", model.task().label());
    o.put("in_flight", config.maxInFlight() - admission.availablePermits()).put("max_in_flight", config.maxInFlight());
    return o.put("answered", answered.get()).put("refused", refused.get());
  }

  private ObjectNode predict(Request r) {
    if (r.task != null) {
      Task asked;
      try {
        asked = Task.parse(r.task);
      } catch (IllegalArgumentException e) {
        throw new HttpError(400, e.getMessage());
      }
      if (asked != model.task()) {
        throw new HttpError(400, "wrong task: this server's checkpoint serves " + model.task() + ", not " + asked);
      }
    }
    ObjectNode o = JSON.createObjectNode().put("task", model.task().label());
    try {
      if (model.task().video()) {
        predictClip(r, o);
      } else {
        predictImage(r, o);
      }
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, e.getMessage());
    } catch (IllegalStateException e) {
      throw new HttpError(503, e.getMessage());                          // the model was closed: shutting down
    }
    return o;
  }

  private void predictClip(Request r, ObjectNode o) {
    VideoInput clip = clip(r);
    switch (model.task()) {
      case VIDEO_QA -> put(o, model.answer(clip, requireText(r)));
      case VIDEO_CAPTION -> put(o, model.caption(clip));
      case VIDEO_RETRIEVAL -> put(o, model.retrieve(clip, requireTexts(r)), r.texts);
      default -> throw new IllegalStateException("not a video task: " + model.task());
    }
  }

  private void predictImage(Request r, ObjectNode o) {
    if (r.image == null) throw new HttpError(400, "missing field image");
    checkImage(r.image, "image");
    ImageInput image = ImageInput.of(r.image, "image");
    switch (model.task()) {
      case VQA -> put(o, model.answer(image, requireText(r)));
      case CAPTION -> put(o, model.caption(image));
      case GROUNDING -> {
        BoundingBox b = model.ground(image, requireText(r));
        double[] px = b.pixels();
        o.putArray("box").add(px[0]).add(px[1]).add(px[2]).add(px[3]);
        o.putArray("normalized").add(b.x1()).add(b.y1()).add(b.x2()).add(b.y2());
        o.put("width", b.imageWidth()).put("height", b.imageHeight());
      }
      case RETRIEVAL -> put(o, model.retrieve(image, requireTexts(r)), r.texts);
      case SNLI_VE -> put(o, model.entail(image, requireText(r)));
      case NLVR2 -> {
        if (r.image2 == null) throw new HttpError(400, "missing field image2 (the right image of the pair)");
        checkImage(r.image2, "image2");
        put(o, model.verify(image, ImageInput.of(r.image2, "image2"), requireText(r)));
      }
      default -> throw new IllegalStateException("not an image task: " + model.task());
    }
  }

  /** The clip of a request: its frames (each checked as an image is) or a Motion-JPEG AVI. */
  private VideoInput clip(Request r) {
    if (r.video != null && !r.frames.isEmpty()) throw new HttpError(400, "send the clip once: frames or video");
    if (r.video != null) return VideoInput.ofAvi(r.video, "video");
    if (r.frames.isEmpty()) {
      throw new HttpError(400, "missing field frames or video (the clip: its frames as images, in order, or a "
          + "Motion-JPEG AVI)");
    }
    List<ImageInput> frames = new ArrayList<>(r.frames.size());
    for (int i = 0; i < r.frames.size(); i++) {
      checkImage(r.frames.get(i), "frame " + i);
      frames.add(ImageInput.of(r.frames.get(i), "frame " + i));
    }
    return VideoInput.ofFrames(frames, "frames");
  }

  private static void put(ObjectNode o, Answer a) {
    o.put("answer", a.text()).put("score", a.score());
  }

  private static void put(ObjectNode o, Caption c) {
    o.put("caption", c.text()).put("score", c.score());
  }

  private static void put(ObjectNode o, List<Match> ranked, List<String> texts) {
    ArrayNode matches = o.putArray("matches");
    for (Match m : ranked) {
      matches.addObject().put("index", m.index()).put("text", texts.get(m.index()))
          .put("similarity", m.similarity()).put("score", m.score());
    }
  }

  private static void put(ObjectNode o, Judgement j) {
    o.put("label", j.label());
    ObjectNode p = o.putObject("probabilities");
    j.probabilities().forEach(p::put);
  }

  private static List<String> requireTexts(Request r) {
    if (r.texts.isEmpty()) throw new HttpError(400, "missing field texts (the candidate texts to rank)");
    return r.texts;
  }

  private static String requireText(Request r) {
    if (r.text == null || r.text.isBlank()) throw new HttpError(400, "missing field text");
    return r.text;
  }

  /** Refuses what is not an image, or too large an image, from its header alone; {@code name} is its field. */
  private void checkImage(byte[] image, String name) {
    ImageHeader header;
    try {
      header = ImageHeader.parse(image, name);
    } catch (BadSampleException e) {
      throw new HttpError(400, name + ": " + e.reason());
    }
    if (header.pixels() > config.maxPixels()) {
      throw new HttpError(413, String.format(Locale.ROOT, "%s: %d x %d = %d pixels is over the limit of %d", name,
          header.width(), header.height(), header.pixels(), config.maxPixels()));
    }
  }

  private static ObjectNode error(String reason) {
    return JSON.createObjectNode().put("error", reason == null ? "(no reason)" : reason);
  }

  /** The fields of a prediction request, from a JSON or a multipart body. */
  private static final class Request {
    String task;
    byte[] image;
    byte[] image2;   // NLVR2's right image
    byte[] video;    // a clip as a Motion-JPEG AVI
    final List<byte[]> frames = new ArrayList<>();   // or as its frames, in order
    String text;
    final List<String> texts = new ArrayList<>();

    static Request read(HttpExchange exchange, int maxBytes) throws IOException {
      String length = exchange.getRequestHeaders().getFirst("Content-Length");
      if (length != null) {
        long n;
        try {
          n = Long.parseLong(length.strip());
        } catch (NumberFormatException e) {
          throw new HttpError(400, "Content-Length " + length + " is not a number");
        }
        if (n > maxBytes) throw new HttpError(413, "request of " + n + " bytes is over the limit of " + maxBytes);
      }
      byte[] body = exchange.getRequestBody().readNBytes(maxBytes + 1);   // the rest is drained by handle()
      if (body.length > maxBytes) throw new HttpError(413, "request is over the limit of " + maxBytes + " bytes");
      String type = exchange.getRequestHeaders().getFirst("Content-Type");
      String t = type == null ? "" : type.toLowerCase(Locale.ROOT);
      if (t.startsWith("application/json")) return json(body);
      if (t.startsWith("multipart/form-data")) return multipart(Multipart.parse(body, type));
      throw new HttpError(415, "Content-Type " + (type == null ? "(none)" : type) + ": send application/json or "
          + "multipart/form-data");
    }

    private static Request json(byte[] body) {
      JsonNode root;
      try {
        root = JSON.readTree(body);
      } catch (JsonProcessingException e) {
        throw new HttpError(400, "the body is not valid JSON: " + e.getOriginalMessage());
      } catch (IOException e) {
        throw new HttpError(400, "the body is not valid JSON: " + e.getMessage());
      }
      if (root == null || !root.isObject()) throw new HttpError(400, "the body must be a JSON object");
      Request r = new Request();
      r.task = string(root, "task");
      r.image = base64(root, "image");
      r.image2 = base64(root, "image2");
      r.video = base64(root, "video");
      List<String> frames = strings(root, "frames", "base64 images");
      for (int i = 0; i < frames.size(); i++) r.frames.add(decode(frames.get(i), "frames[" + i + "]"));
      r.text = string(root, "text");
      r.texts.addAll(strings(root, "texts", "strings"));
      return r;
    }

    /** The strings of a JSON list field (none when absent); anything else is a 400 saying what it must hold. */
    private static List<String> strings(JsonNode root, String field, String what) {
      JsonNode list = root.get(field);
      List<String> out = new ArrayList<>();
      if (list == null) return out;
      if (!list.isArray()) throw new HttpError(400, field + " must be a list of " + what);
      for (JsonNode v : list) {
        if (!v.isTextual()) throw new HttpError(400, field + " must be a list of " + what);
        out.add(v.asText());
      }
      return out;
    }

    private static byte[] base64(JsonNode root, String field) {
      String v = string(root, field);
      return v == null ? null : decode(v, field);
    }

    private static byte[] decode(String base64, String field) {
      try {
        return Base64.getDecoder().decode(base64.replaceAll("\\s", ""));   // line breaks allowed
      } catch (IllegalArgumentException e) {
        throw new HttpError(400, field + " is not valid base64: " + e.getMessage());
      }
    }

    private static String string(JsonNode root, String field) {
      JsonNode v = root.get(field);
      if (v == null || v.isNull()) return null;
      if (!v.isTextual()) throw new HttpError(400, field + " must be a string");
      return v.asText();
    }

    private static Request multipart(List<Multipart.Part> parts) {
      Request r = new Request();
      for (Multipart.Part p : parts) {
        switch (p.name()) {
          case "image" -> r.image = p.content();
          case "image2" -> r.image2 = p.content();
          case "video" -> r.video = p.content();
          case "frame", "frames" -> r.frames.add(p.content());
          case "task" -> r.task = p.text();
          case "text" -> {
            r.text = p.text();
            r.texts.add(p.text());
          }
          case "texts" -> r.texts.add(p.text());
          default -> throw new HttpError(400, "unknown field " + p.name() + " (image, image2, frame, video, text, "
              + "texts, task)");
        }
      }
      return r;
    }
  }
}
