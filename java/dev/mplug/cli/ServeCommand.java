package dev.mplug.cli;

import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import dev.mplug.serve.InferenceServer;
import dev.mplug.serve.ServerConfig;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mplug serve --checkpoint C --port P}: the model as an HTTP JSON service until Ctrl-C or SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve a checkpoint over HTTP (JDK built-in server): POST /predict with JSON {\"image\": base64, "
        + "\"text\"} or multipart (image, text); clips as \"frames\" (base64 list) or \"video\" (a Motion-JPEG AVI), "
        + "multipart frame (repeated) or video; GET /health. Stops gracefully on Ctrl-C / SIGTERM.")
public final class ServeCommand implements Callable<Integer> {
  @Mixin ModelOptions model;

  @Option(names = "--task", description = "vqa | caption | retrieval | grounding | snli-ve | nlvr2 | video-retrieval "
      + "| video-qa | video-caption (default: the task a fine-tuning folder records, else read from the checkpoint "
      + "where its parts tell).")
  String task;

  @Option(names = "--host", description = "Address to bind (default ${DEFAULT-VALUE}: this machine only).")
  String host = "127.0.0.1";

  @Option(names = "--port", description = "Port (default ${DEFAULT-VALUE}; 0 = any free port).")
  int port = 8080;

  @Option(names = "--max-queue", description = "Requests admitted at once; more get 503 (default ${DEFAULT-VALUE}).")
  int maxQueue = ServerConfig.DEFAULT_MAX_IN_FLIGHT;

  @Option(names = "--max-request-bytes", description = "Larger bodies get 413 (default ${DEFAULT-VALUE}).")
  int maxRequestBytes = ServerConfig.DEFAULT_MAX_REQUEST_BYTES;

  @Option(names = "--max-pixels", description = "Larger images get 413 (default ${DEFAULT-VALUE}).")
  long maxPixels = ServerConfig.DEFAULT_MAX_PIXELS;

  @Option(names = "--grace", description = "Seconds a shutdown waits for admitted requests (default "
      + "${DEFAULT-VALUE}).")
  int grace = 10;

  @Override
  public Integer call() throws Exception {
    ServerConfig config = new ServerConfig(host, port, maxQueue, maxRequestBytes, maxPixels, grace);
    MPlugModel m = model.builder(task == null ? null : Task.parse(task)).maxPixels(maxPixels).build();
    InferenceServer server;
    try {
      server = InferenceServer.start(m, config);
    } catch (Exception e) {
      m.close();
      throw new IllegalArgumentException("cannot serve on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("mplug serve: stopping (waiting up to " + grace + " s for requests in flight)");
      server.stop();
      m.close();
      stopped.countDown();
    }));
    System.err.printf("mplug serve: %s model of %s on http://%s:%d (POST /predict, GET /health)%n", m.task(),
        model.checkpoint, host, server.port());
    stopped.await();
    return 0;
  }
}
