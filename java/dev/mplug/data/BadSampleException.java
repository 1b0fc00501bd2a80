package dev.mplug.data;

/**
 * One unusable sample: a missing, empty, truncated or oversized image, a malformed JSON line, a field of the wrong
 * type, invalid UTF-8. Carries where it came from ({@code source}: file, file:line or shard#index) and why, so the
 * loader can report it, count it and replace the sample deterministically instead of stopping or staying silent.
 */
public final class BadSampleException extends RuntimeException {
  private final String source;
  private final String reason;

  public BadSampleException(String source, String reason) {
    super(source + ": " + reason);
    this.source = source;
    this.reason = reason;
  }

  public BadSampleException(String source, String reason, Throwable cause) {
    super(source + ": " + reason, cause);
    this.source = source;
    this.reason = reason;
  }

  /** File, file:line or shard#index of the sample. */
  public String source() {
    return source;
  }

  /** Why the sample is unusable. */
  public String reason() {
    return reason;
  }
}
