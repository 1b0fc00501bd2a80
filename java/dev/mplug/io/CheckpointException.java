package dev.mplug.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A checkpoint file that cannot be read as asked: not the expected format, truncated, unsafe, or holding a tensor
 * that does not fit. The message always names the file and, where there is one, the key.
 */
public final class CheckpointException extends IOException {
  private final Path file;
  private final String key;

  public CheckpointException(Path file, String key, String problem) {
    this(file, key, problem, null);
  }

  public CheckpointException(Path file, String key, String problem, Throwable cause) {
    super(file + (key == null ? "" : ": key '" + key + "'") + ": " + problem, cause);
    this.file = file;
    this.key = key;
  }

  public static CheckpointException of(Path file, String problem) {
    return new CheckpointException(file, null, problem);
  }

  public Path file() {
    return file;
  }

  /** The state-dict key (or path inside the pickled object, segments joined by '/') the problem is about. */
  public Optional<String> key() {
    return Optional.ofNullable(key);
  }
}
