package dev.mplug.data.shard;

import dev.mplug.data.proto.Record;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

/**
 * Writes one shard file (format in {@link ShardFormat}). The file is written under a temporary name and moved into
 * place on {@link #close()}, so a crash never leaves a half-written shard under the final name.
 */
public final class ShardWriter implements AutoCloseable {
  private final Path file;
  private final Path tmp;
  private final OutputStream out;
  private long[] offsets = new long[256];
  private int count;
  private long position;
  private boolean closed;

  public ShardWriter(Path file) {
    this.file = file;
    this.tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      this.out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
      ByteBuffer h = ShardFormat.le(ShardFormat.HEADER_BYTES);
      h.put(ShardFormat.MAGIC).putInt(ShardFormat.VERSION).putInt(0);
      write(h.array());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create shard " + file + ": " + e.getMessage(), e);
    }
  }

  /** Appends one record; returns its index in this shard. */
  public int write(Record record) {
    if (closed) throw new IllegalStateException("shard " + file + " is closed");
    byte[] payload = record.toByteArray();
    if (count == offsets.length) offsets = Arrays.copyOf(offsets, count * 2);
    offsets[count] = position;
    ByteBuffer head = ShardFormat.le(ShardFormat.FRAME_HEAD_BYTES);
    head.putInt(payload.length).putInt(ShardFormat.lengthCrc(payload.length));
    ByteBuffer tail = ShardFormat.le(ShardFormat.FRAME_TAIL_BYTES);
    tail.putInt(ShardFormat.crc32c(payload, 0, payload.length));
    try {
      write(head.array());
      write(payload);
      write(tail.array());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to shard " + tmp + ": " + e.getMessage(), e);
    }
    return count++;
  }

  public int count() {
    return count;
  }

  public Path file() {
    return file;
  }

  /** Writes the index and footer and moves the file into place. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    try {
      long indexOffset = position;
      ByteBuffer index = ShardFormat.le(8 * count);
      for (int i = 0; i < count; i++) index.putLong(offsets[i]);
      index.flip();
      int indexCrc = ShardFormat.crc32c(index);
      write(index.array());
      ByteBuffer footer = ShardFormat.le(ShardFormat.FOOTER_BYTES);
      footer.putLong(indexOffset).putLong(count).putInt(indexCrc).putInt(0).put(ShardFormat.FOOTER_MAGIC);
      write(footer.array());
      out.close();
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot finish shard " + file + ": " + e.getMessage(), e);
    }
  }

  private void write(byte[] bytes) throws IOException {
    out.write(bytes);
    position += bytes.length;
  }
}
