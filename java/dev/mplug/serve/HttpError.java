package dev.mplug.serve;

/** A request the service refuses: the HTTP status and the one-line reason sent back as {@code {"error": reason}}. */
final class HttpError extends RuntimeException {
  private final int status;

  HttpError(int status, String reason) {
    super(reason);
    this.status = status;
  }

  int status() {
    return status;
  }
}
