package dev.mplug.data.shard;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.Dataset;
import dev.mplug.data.proto.Record;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;

/**
 * Reads one shard file (format in {@link ShardFormat}): record i by seeking through the index, checking the length
 * and payload checksums. A damaged record throws {@link BadSampleException} with source {@code file#i}; a file
 * without a valid footer (cut short) is scanned frame by frame, and what was lost is told by {@link #problem()}.
 * Thread-safe: reads are positional.
 */
public final class ShardReader implements Dataset<Record>, AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final long[] offsets;
  private final long recordsEnd;
  private final String problem;

  private ShardReader(Path file, FileChannel channel, long[] offsets, long recordsEnd, String problem) {
    this.file = file;
    this.channel = channel;
    this.offsets = offsets;
    this.recordsEnd = recordsEnd;
    this.problem = problem;
  }

  /** Opens a shard; a file that is not a shard (or of an unknown version) is an {@link IllegalArgumentException}. */
  public static ShardReader open(Path file) {
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("shard file " + file + " does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open shard " + file + ": " + e.getMessage(), e);
    }
    try {
      long size = channel.size();
      if (size < ShardFormat.HEADER_BYTES) {
        throw new IllegalArgumentException(file + " is not a record shard: " + size + " bytes, shorter than a header");
      }
      ByteBuffer header = read(channel, 0, ShardFormat.HEADER_BYTES);
      byte[] magic = new byte[8];
      header.get(magic);
      if (!Arrays.equals(magic, ShardFormat.MAGIC)) {
        throw new IllegalArgumentException(file + " is not a record shard (no MPLUGREC magic)");
      }
      int version = header.getInt();
      if (version != ShardFormat.VERSION) {
        throw new IllegalArgumentException(file + " is a version " + version + " shard; this reader reads version "
            + ShardFormat.VERSION);
      }
      ShardReader indexed = fromFooter(file, channel, size);
      return indexed != null ? indexed : scan(file, channel, size);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("cannot read shard " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  /** The reader over a valid index, or null when the footer or index is missing or damaged. */
  private static ShardReader fromFooter(Path file, FileChannel channel, long size) throws IOException {
    if (size < ShardFormat.HEADER_BYTES + ShardFormat.FOOTER_BYTES) return null;
    ByteBuffer footer = read(channel, size - ShardFormat.FOOTER_BYTES, ShardFormat.FOOTER_BYTES);
    long indexOffset = footer.getLong();
    long count = footer.getLong();
    int indexCrc = footer.getInt();
    footer.getInt();
    byte[] magic = new byte[8];
    footer.get(magic);
    if (!Arrays.equals(magic, ShardFormat.FOOTER_MAGIC)) return null;
    if (count < 0 || count > Integer.MAX_VALUE / 8 || indexOffset < ShardFormat.HEADER_BYTES
        || indexOffset + 8 * count != size - ShardFormat.FOOTER_BYTES) {
      return null;
    }
    ByteBuffer index = read(channel, indexOffset, (int) (8 * count));
    if (ShardFormat.crc32c(index) != indexCrc) return null;
    long[] offsets = new long[(int) count];
    for (int i = 0; i < offsets.length; i++) offsets[i] = index.getLong();
    return new ShardReader(file, channel, offsets, indexOffset, null);
  }

  /** Recovers the record offsets of a file without a usable footer by walking the frames. */
  private static ShardReader scan(Path file, FileChannel channel, long size) throws IOException {
    long[] offsets = new long[64];
    int n = 0;
    long pos = ShardFormat.HEADER_BYTES;
    String tail = "";
    while (pos + ShardFormat.FRAME_HEAD_BYTES <= size) {
      ByteBuffer head = read(channel, pos, ShardFormat.FRAME_HEAD_BYTES);
      int length = head.getInt();
      if (ShardFormat.lengthCrc(length) != head.getInt() || length < 0) {
        tail = "; the " + (size - pos) + " bytes from offset " + pos + " are not a record frame";
        break;
      }
      if (n == offsets.length) offsets = Arrays.copyOf(offsets, n * 2);
      offsets[n++] = pos;                              // a cut-off last record is kept, and reported when read
      pos += ShardFormat.FRAME_HEAD_BYTES + (long) length + ShardFormat.FRAME_TAIL_BYTES;
    }
    String problem = file + " has no valid index footer (truncated or damaged): " + n
        + " record(s) found by scanning" + tail;
    return new ShardReader(file, channel, Arrays.copyOf(offsets, n), size, problem);
  }

  @Override
  public int size() {
    return offsets.length;
  }

  /** Record {@code i}; a damaged or cut-off record throws {@link BadSampleException} ({@code file#i}). */
  @Override
  public Record get(int i) {
    if (i < 0 || i >= offsets.length) {
      throw new IndexOutOfBoundsException("record " + i + " of shard " + file + " with " + offsets.length);
    }
    long off = offsets[i];
    long end = i + 1 < offsets.length ? offsets[i + 1] : recordsEnd;
    try {
      if (off + ShardFormat.FRAME_HEAD_BYTES > end) throw bad(i, "truncated: no room for the record header");
      ByteBuffer head = read(channel, off, ShardFormat.FRAME_HEAD_BYTES);
      int length = head.getInt();
      if (ShardFormat.lengthCrc(length) != head.getInt() || length < 0) {
        throw bad(i, "corrupt length field (CRC32C mismatch)");
      }
      long need = ShardFormat.FRAME_HEAD_BYTES + (long) length + ShardFormat.FRAME_TAIL_BYTES;
      if (off + need > end) {
        throw bad(i, "truncated: the record needs " + need + " bytes, " + (end - off) + " are left");
      }
      ByteBuffer body = read(channel, off + ShardFormat.FRAME_HEAD_BYTES, length + ShardFormat.FRAME_TAIL_BYTES);
      ByteBuffer payload = body.slice(0, length);
      int stored = body.getInt(length);
      int computed = ShardFormat.crc32c(payload);
      if (stored != computed) {
        throw bad(i, String.format("payload CRC32C mismatch (stored %08x, computed %08x)", stored, computed));
      }
      return Record.parseFrom(payload);
    } catch (InvalidProtocolBufferException e) {
      throw bad(i, "cannot parse the record: " + e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read record " + i + " of shard " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String source(int i) {
    return file + "#" + i;
  }

  public Path file() {
    return file;
  }

  /** Why the index could not be used (a truncated or damaged file), if so. */
  public Optional<String> problem() {
    return Optional.ofNullable(problem);
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close shard " + file + ": " + e.getMessage(), e);
    }
  }

  private BadSampleException bad(int i, String reason) {
    return new BadSampleException(source(i), reason);
  }

  private static ByteBuffer read(FileChannel channel, long position, int length) throws IOException {
    ByteBuffer b = ShardFormat.le(length);
    while (b.hasRemaining()) {
      int n = channel.read(b, position + b.position());
      if (n < 0) throw new IOException("unexpected end of file at " + (position + b.position()));
    }
    return b.flip();
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // already failing with a better message
    }
  }
}
