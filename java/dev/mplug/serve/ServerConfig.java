package dev.mplug.serve;

import dev.mplug.data.image.Images;

/**
 * The HTTP service's address and limits, validated.
 *
 * @param host the address to bind (127.0.0.1: this machine only)
 * @param port the port (0: any free one)
 * @param maxInFlight requests admitted at once, running or waiting for the model; one more is refused with 503
 * @param maxRequestBytes a larger request body is refused with 413 before it is read
 * @param maxPixels an image with more pixels is refused with 413 from its header, before it is decoded
 * @param graceSeconds how long a shutdown waits for admitted requests to finish
 */
public record ServerConfig(String host, int port, int maxInFlight, int maxRequestBytes, long maxPixels,
    int graceSeconds) {
  public static final int DEFAULT_MAX_IN_FLIGHT = 16;
  public static final int DEFAULT_MAX_REQUEST_BYTES = 16 << 20;
  /** 4096 x 4096: a served image is resized to the model's few hundred pixels anyway. */
  public static final long DEFAULT_MAX_PIXELS = 4096L * 4096L;

  public ServerConfig {
    if (host == null || host.isBlank()) throw new IllegalArgumentException("--host is empty");
    if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
    if (maxInFlight < 1) throw new IllegalArgumentException("--max-queue must be >= 1, got " + maxInFlight);
    if (maxRequestBytes < 1024) {
      throw new IllegalArgumentException("--max-request-bytes must be >= 1024, got " + maxRequestBytes);
    }
    if (maxPixels < 1 || maxPixels > Images.DEFAULT_MAX_PIXELS) {
      throw new IllegalArgumentException("--max-pixels must be in 1.." + Images.DEFAULT_MAX_PIXELS + ", got "
          + maxPixels);
    }
    if (graceSeconds < 0) throw new IllegalArgumentException("--grace must be >= 0 seconds, got " + graceSeconds);
  }

  /** Local only, on {@code port}, with the default limits. */
  public static ServerConfig local(int port) {
    return new ServerConfig("127.0.0.1", port, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_PIXELS,
        10);
  }

  public ServerConfig withMaxInFlight(int n) {
    return new ServerConfig(host, port, n, maxRequestBytes, maxPixels, graceSeconds);
  }

  public ServerConfig withMaxRequestBytes(int n) {
    return new ServerConfig(host, port, maxInFlight, n, maxPixels, graceSeconds);
  }

  public ServerConfig withMaxPixels(long n) {
    return new ServerConfig(host, port, maxInFlight, maxRequestBytes, n, graceSeconds);
  }
}
