package dev.mplug.torch;

import java.util.function.Supplier;

/**
 * A failure inside libtorch or the native extension, carrying the native message.
 *
 * <p>JavaCPP reports C++ exceptions as bare {@link RuntimeException}s and the extension reports status codes; both
 * end up here so callers catch one type and always see what libtorch said.
 */
public final class TorchException extends RuntimeException {
  public TorchException(String message) {
    super(message);
  }

  public TorchException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Runs {@code body}, turning a JavaCPP-translated C++ exception into a {@link TorchException} whose message says
   * what was being done ({@code what}) and what libtorch said.
   */
  public static <T> T wrap(String what, Supplier<T> body) {
    try {
      return body.get();
    } catch (TorchException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new TorchException(what + ": " + firstLine(e.getMessage()), e);
    }
  }

  /** libtorch messages carry a C++ backtrace after the first lines; keep the part a user reads. */
  static String firstLine(String message) {
    if (message == null) return "(no message)";
    int cut = message.indexOf("\nException raised from");
    return (cut >= 0 ? message.substring(0, cut) : message).strip();
  }
}
