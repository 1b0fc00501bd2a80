package dev.mplug.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a state dict from either format, told apart by content, not name: a torch zip starts with "PK", a safetensors
 * file with an 8-byte header length followed by '{'. Anything else goes to the torch reader, which says what it is.
 */
public final class CheckpointFiles {
  private CheckpointFiles() {}

  public static StateDict read(Path file) throws IOException {
    if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "no such checkpoint file");
    byte[] head = new byte[9];
    int n = 0;
    if (Files.isRegularFile(file)) {
      try (InputStream in = Files.newInputStream(file)) {
        n = in.readNBytes(head, 0, head.length);
      }
    }
    boolean zip = n >= 2 && head[0] == 'P' && head[1] == 'K';
    boolean safetensors = n == 9 && head[8] == '{';
    return !zip && safetensors ? SafeTensors.read(file) : TorchCheckpoint.readStateDict(file);
  }
}
