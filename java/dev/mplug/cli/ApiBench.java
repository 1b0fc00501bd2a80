package dev.mplug.cli;

import dev.mplug.api.ImageInput;
import dev.mplug.api.ImageText;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Precision;
import dev.mplug.api.Task;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.io.MPlugCheckpoint;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.serve.InferenceServer;
import dev.mplug.serve.ServerConfig;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.torch.TorchRuntime;
import java.awt.Color;
import java.awt.Graphics2D;
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
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;

/**
 * {@code mplug bench --api}: the inference API's latency and throughput on this machine. A model of the given size
 * with random weights (the cost of a forward does not depend on the weights; no download) is saved to a scratch
 * folder with a synthetic vocabulary, then timed through {@link MPlugModel}: caption and VQA at batch 1 (latency
 * p50 / p99 of single requests) and batched ({@code --batch} requests per call), in each precision asked for; then the
 * HTTP service ({@link InferenceServer}, VQA, fp32) at 1, 4 and 16 concurrent clients on 127.0.0.1.
 */
final class ApiBench {
  private static final String QUESTION = "what color is the large shape on the left?";

  private final String model;
  private final int batch;
  private final int requests;
  private final List<Precision> precisions;

  ApiBench(String model, int batch, int requests, List<Precision> precisions) {
    if (batch < 2 || requests < 2) throw new IllegalArgumentException("need --batch >= 2 and --steps >= 2");
    this.model = model;
    this.batch = batch;
    this.requests = requests;
    this.precisions = precisions;
  }

  int run() throws Exception {
    Path scratch = Files.createTempDirectory("mplug-api-bench");
    try {
      MPlugConfig config = PretrainConfig.modelConfig(model);
      Path checkpoint = scratch.resolve("model.safetensors");
      TorchRuntime.seed(0);
      MPlug m = new MPlug(config);
      MPlugCheckpoint.save(m, checkpoint);
      m.close();
      writeVocabulary(BenchCommand.syntheticVocabulary(config.text().vocab()), scratch.resolve("vocab.txt"));
      List<ImageInput> images = new ArrayList<>();
      for (int i = 0; i < 8; i++) images.add(ImageInput.of(png(picture(i, 480, 360)), "picture " + i));
      System.out.printf(Locale.ROOT, "model %s (random weights), image %d px, %d threads, %d requests per figure%n",
          model, config.vision().imageRes(), TorchRuntime.threads(), requests);
      System.out.println("| task | precision | batch | p50 ms / call | p99 ms / call | items/s |");
      System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
      String shared = "";
      for (Precision p : precisions) {
        for (Task task : List.of(Task.CAPTION, Task.VQA)) {
          try (MPlugModel api = MPlugModel.builder(checkpoint).task(task).precision(p).batchSize(batch).build()) {
            time(api, task, p, 1, images);
            time(api, task, p, batch, images);
            if (task == Task.VQA && p == precisions.get(0)) shared = callers(api, images);
          }
        }
      }
      System.out.println();
      System.out.println(shared);
      try (MPlugModel api = MPlugModel.builder(checkpoint).task(Task.VQA).build();
          InferenceServer server = InferenceServer.start(api, ServerConfig.local(0).withMaxInFlight(32))) {
        System.out.println();
        System.out.println("| server (VQA, fp32) concurrency | requests | seconds | requests/s | p50 ms | p99 ms |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: |");
        byte[] body = ("{\"image\": \"" + Base64.getEncoder().encodeToString(png(picture(0, 480, 360)))
            + "\", \"text\": \"" + QUESTION + "\"}").getBytes(StandardCharsets.UTF_8);
        for (int c : new int[] {1, 4, 16}) serve(server.port(), c, body);
      }
      return 0;
    } finally {
      try (var files = Files.walk(scratch)) {
        files.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
      }
    }
  }

  /** {@code requests} items, {@code size} per call, after one untimed call. */
  private void time(MPlugModel api, Task task, Precision p, int size, List<ImageInput> images) {
    List<ImageInput> ims = new ArrayList<>();
    for (int i = 0; i < size; i++) ims.add(images.get(i % images.size()));
    List<ImageText> qs = ims.stream().map(im -> new ImageText(im, QUESTION)).toList();
    Runnable call = task == Task.CAPTION ? () -> api.captionAll(ims) : () -> api.answerAll(qs);
    call.run();
    int calls = Math.max(2, requests / size);
    double[] ms = new double[calls];
    long t0 = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      long s = System.nanoTime();
      call.run();
      ms[i] = (System.nanoTime() - s) / 1e6;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.2f |%n", task, p.name().toLowerCase(Locale.ROOT),
        size, percentile(ms, 50), percentile(ms, 99), calls * size / seconds);
  }

  /** Single VQA requests from 1 and from 8 threads sharing the model: what its one lock costs or gains. */
  private String callers(MPlugModel api, List<ImageInput> images) throws Exception {
    double[] rate = new double[2];
    int[] threads = {1, 8};
    for (int t = 0; t < threads.length; t++) {
      int n = Math.max(threads[t], requests / threads[t] * threads[t]);
      ExecutorService pool = Executors.newFixedThreadPool(threads[t]);
      try {
        long t0 = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          ImageInput im = images.get(i % images.size());
          futures.add(pool.submit(() -> api.answer(im, QUESTION)));
        }
        for (Future<?> f : futures) f.get();
        rate[t] = n / ((System.nanoTime() - t0) / 1e9);
      } finally {
        pool.shutdownNow();
      }
    }
    return String.format(Locale.ROOT, "VQA, batch 1, one shared model: %.2f answers/s from 1 calling thread, %.2f from "
        + "8 (the forward passes take turns; the 8 threads overlap image decoding and tokenisation)", rate[0], rate[1]);
  }

  private void serve(int port, int concurrency, byte[] body) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/predict"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    client.send(request, HttpResponse.BodyHandlers.ofString());   // warm-up
    int total = Math.max(requests, concurrency * 2);
    double[] ms = new double[total];
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      long t0 = System.nanoTime();
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        int at = i;
        futures.add(pool.submit(() -> {
          long s = System.nanoTime();
          HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200) {
            throw new IllegalStateException("server answered " + r.statusCode() + ": " + r.body());
          }
          ms[at] = (System.nanoTime() - s) / 1e6;
          return null;
        }));
      }
      for (Future<?> f : futures) f.get();
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.2f | %.1f | %.1f |%n", concurrency, total, seconds,
          total / seconds, percentile(ms, 50), percentile(ms, 99));
    } finally {
      pool.shutdownNow();
    }
  }

  /** The nearest-rank percentile. */
  static double percentile(double[] values, double p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** A picture of a few coloured shapes, different for each {@code seed}. */
  private static BufferedImage picture(int seed, int w, int h) {
    BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = im.createGraphics();
    g.setColor(new Color(40 + 20 * seed, 120, 200 - 15 * seed));
    g.fillRect(0, 0, w, h);
    g.setColor(Color.RED);
    g.fillOval(30 + 20 * seed, 40, 120, 120);
    g.setColor(Color.YELLOW);
    g.fillRect(260, 150 + 10 * seed, 140, 90);
    g.dispose();
    return im;
  }

  private static byte[] png(BufferedImage im) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(im, "png", out);
    return out.toByteArray();
  }

  private static void writeVocabulary(Vocabulary v, Path file) throws IOException {
    List<String> lines = new ArrayList<>(v.size());
    for (int i = 0; i < v.size(); i++) lines.add(v.token(i));
    Files.write(file, lines, StandardCharsets.UTF_8);
  }
}
