package dev.mplug.data.dataset;

import dev.mplug.data.BadSampleException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * An image or video of a sample: a file under the dataset root, or bytes carried by a shard record. {@link #bytes()}
 * reads it and throws {@link BadSampleException} for a missing, empty or unreadable file, so the image decoder
 * ({@code Images.decode(ref.bytes(), ref.source())}) only ever sees real bytes.
 */
public sealed interface MediaRef {
  /** The path as written in the annotation (relative to the dataset root). */
  String name();

  /** Where the bytes come from, for error messages: the file path or {@code shard#index:name}. */
  String source();

  /** The file's bytes, exactly as stored (never re-encoded). */
  byte[] bytes();

  /** A file on disk. */
  record File(String name, Path path) implements MediaRef {
    @Override
    public String source() {
      return path.toString();
    }

    @Override
    public byte[] bytes() {
      byte[] data;
      try {
        data = Files.readAllBytes(path);
      } catch (NoSuchFileException e) {
        throw new BadSampleException(source(), "missing file");
      } catch (AccessDeniedException e) {
        throw new BadSampleException(source(), "permission denied");
      } catch (IOException e) {
        throw new BadSampleException(source(), "cannot read: " + e.getMessage(), e);
      }
      if (data.length == 0) throw new BadSampleException(source(), "empty file (0 bytes)");
      return data;
    }
  }

  /** Bytes carried by a record. */
  record Blob(String name, byte[] data, String source) implements MediaRef {
    @Override
    public byte[] bytes() {
      if (data.length == 0) throw new BadSampleException(source, "empty media (0 bytes)");
      return data;
    }
  }
}
