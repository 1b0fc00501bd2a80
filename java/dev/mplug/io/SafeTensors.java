package dev.mplug.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
 * byte range ({@code data_offsets}, relative to the data section), an optional {@code __metadata__} map of strings,
 * then the raw little-endian data.
 *
 * <p>Reading checks the header against the file before allocating anything: every range inside the data section,
 * sized exactly numel * itemsize, ranges neither overlapping nor leaving gaps (as the reference implementation
 * requires). Writing is atomic: a temporary file in the same folder, flushed to disk, then renamed over the target.
 */
public final class SafeTensors {
  /** The reference implementation refuses headers above 100 MB; so do we (a corrupt length would else allocate GBs). */
  private static final long MAX_HEADER = 100L << 20;

  private static final String METADATA = "__metadata__";
  private static final int IO_CHUNK = 1 << 30;

  private SafeTensors() {}

  /** One tensor's header entry. */
  private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  /** Reads every tensor (CPU, dtype preserved) and the metadata. */
  public static StateDict read(Path file) throws IOException {
    TorchRuntime.load();
    try (FileChannel ch = open(file)) {
      Layout layout = layout(ch, file);
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      try (TensorScope scope = TensorScope.open()) {
        for (Entry e : layout.header().entries()) {
          Tensor t = TorchException.wrap("allocating " + e.name(),
              () -> torch.empty(e.shape(), e.dtype().options(), new MemoryFormatOptional()));
          long n = e.end() - e.begin();
          if (n > 0) {
            BytePointer dst = new BytePointer(t.data_ptr());
            for (long off = 0; off < n; off += IO_CHUNK) {
              long len = Math.min(IO_CHUNK, n - off);
              ByteBuffer target = dst.position(off).limit(off + len).asBuffer();
              readFully(ch, target, layout.dataStart() + e.begin() + off, file);
            }
          }
          tensors.put(e.name(), t);
        }
        for (Tensor t : tensors.values()) scope.keep(t);
      }
      return new StateDict(tensors, layout.header().metadata(), file.toString());
    }
  }

  /** Only the {@code __metadata__} map (the header is read and validated; no tensor data is read). */
  public static Map<String, String> metadata(Path file) throws IOException {
    try (FileChannel ch = open(file)) {
      return layout(ch, file).header().metadata();
    }
  }

  private static FileChannel open(Path file) throws IOException {
    if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "no such safetensors file");
    if (Files.isDirectory(file)) throw CheckpointException.of(file, "is a directory, not a safetensors file");
    return FileChannel.open(file, StandardOpenOption.READ);
  }

  private record Layout(Header header, long dataStart) {}

  /** Reads and validates the header against the file size. */
  private static Layout layout(FileChannel ch, Path file) throws IOException {
    long size = ch.size();
    if (size < 8) throw CheckpointException.of(file, "is " + size + " bytes long, too short for a safetensors header");
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0, file);
    long headerLen = lenBuf.flip().getLong();
    if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
      throw CheckpointException.of(file, "header length " + Long.toUnsignedString(headerLen) + " does not fit a "
          + size + "-byte file (not a safetensors file, or truncated)");
    }
    ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
    readFully(ch, headerBuf, 8, file);
    long dataStart = 8 + headerLen;
    return new Layout(parseHeader(file, headerBuf.array(), size - dataStart), dataStart);
  }

  private record Header(List<Entry> entries, Map<String, String> metadata) {}

  private static Header parseHeader(Path file, byte[] json, long dataSize) throws CheckpointException {
    JsonNode root;
    try {
      ObjectMapper mapper = new ObjectMapper();
      mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      root = mapper.readTree(new String(json, StandardCharsets.UTF_8).stripTrailing());
    } catch (JsonProcessingException e) {
      throw CheckpointException.of(file, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) throw CheckpointException.of(file, "header is not a JSON object");

    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (var it = root.properties().iterator(); it.hasNext(); ) {
      var field = it.next();
      String name = field.getKey();
      JsonNode v = field.getValue();
      if (name.equals(METADATA)) {
        if (!v.isObject()) throw new CheckpointException(file, METADATA, "must be an object of strings");
        for (var m = v.properties().iterator(); m.hasNext(); ) {
          var kv = m.next();
          if (!kv.getValue().isTextual()) {
            throw new CheckpointException(file, METADATA, "value of '" + kv.getKey() + "' is not a string");
          }
          metadata.put(kv.getKey(), kv.getValue().textValue());
        }
        continue;
      }
      entries.add(entry(file, name, v, dataSize));
    }

    // ranges must tile the data section exactly: no overlap, no gap, nothing left over
    List<Entry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long covered = 0;
    Entry previous = null;
    for (Entry e : byOffset) {
      if (e.begin() < covered) {
        throw new CheckpointException(file, e.name(), "bytes [" + e.begin() + ", " + e.end() + ") overlap those of '"
            + previous.name() + "' [" + previous.begin() + ", " + previous.end() + ")");
      }
      if (e.begin() > covered) {
        throw new CheckpointException(file, e.name(), "starts at byte " + e.begin() + " of the data section, leaving "
            + "bytes [" + covered + ", " + e.begin() + ") unassigned");
      }
      covered = e.end();
      previous = e;
    }
    if (covered != dataSize) {
      throw CheckpointException.of(file, "the header describes " + covered + " bytes of tensor data but the file "
          + "holds " + dataSize + (covered > dataSize ? " (truncated?)" : " (trailing bytes)"));
    }
    return new Header(entries, metadata);
  }

  private static Entry entry(Path file, String name, JsonNode v, long dataSize) throws CheckpointException {
    if (!v.isObject()) throw new CheckpointException(file, name, "header entry is not an object");
    for (var it = v.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!f.equals("dtype") && !f.equals("shape") && !f.equals("data_offsets")) {
        throw new CheckpointException(file, name, "unknown header field '" + f + "'");
      }
    }
    JsonNode dt = v.get("dtype");
    if (dt == null || !dt.isTextual()) throw new CheckpointException(file, name, "has no dtype");
    DType dtype = DType.fromSafetensors(dt.textValue()).orElseThrow(() -> new CheckpointException(file, name,
        "unsupported dtype '" + dt.textValue() + "' (supported: " + safetensorsNames() + ")"));
    JsonNode shapeNode = v.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) throw new CheckpointException(file, name, "has no shape");
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || !d.isIntegralNumber() || d.longValue() < 0) {
        throw new CheckpointException(file, name, "shape " + shapeNode + " is not a list of integers >= 0");
      }
      shape[i] = d.longValue();
    }
    JsonNode off = v.get("data_offsets");
    if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
        || !off.get(1).isIntegralNumber() || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
      throw new CheckpointException(file, name, "data_offsets must be [begin, end], got " + off);
    }
    long begin = off.get(0).longValue(), end = off.get(1).longValue();
    if (begin < 0 || end < begin || end > dataSize) {
      throw new CheckpointException(file, name, "data_offsets [" + begin + ", " + end + "] are outside the "
          + dataSize + "-byte data section" + (end > dataSize ? " (truncated file?)" : ""));
    }
    long expected;
    try {
      long numel = 1;
      for (long s : shape) numel = Math.multiplyExact(numel, s);
      expected = Math.multiplyExact(numel, dtype.itemSize());
    } catch (ArithmeticException e) {
      throw new CheckpointException(file, name, "shape " + Arrays.toString(shape) + " is impossibly large");
    }
    if (end - begin != expected) {
      throw new CheckpointException(file, name, "data_offsets [" + begin + ", " + end + "] span " + (end - begin)
          + " bytes but " + dt.textValue() + " " + Arrays.toString(shape) + " needs " + expected);
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  /**
   * Writes {@code tensors} (any device, layout or supported dtype; stored as they are) with {@code metadata},
   * atomically: the target is either the old file or the complete new one.
   *
   * <p>The bytes are a function of the contents alone, so identical state gives identical files: the header lists
   * {@code __metadata__} first with its keys sorted, then the tensors in the map's encounter order when it has one (a
   * {@link SequencedMap} such as {@link LinkedHashMap} or {@link java.util.TreeMap}), else sorted by name
   * ({@code Map.of} and {@code HashMap} iterate in an order that may differ between processes).
   */
  @SuppressWarnings("try") // the scope frees the contiguous copies by being open
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    TorchRuntime.load();
    Path target = file.toAbsolutePath();
    Path folder = target.getParent();
    if (folder == null || !Files.isDirectory(folder)) {
      throw new NoSuchFileException(String.valueOf(folder), null, "no folder to write " + file + " into");
    }
    record Block(Tensor data, long bytes) {}
    try (TensorScope scope = TensorScope.open()) {
      List<Block> blocks = new ArrayList<>(tensors.size());
      ObjectNode header = new ObjectMapper().createObjectNode();
      if (!metadata.isEmpty()) {
        ObjectNode meta = header.putObject(METADATA);
        new TreeMap<>(metadata).forEach((k, v) -> meta.put(k, Objects.requireNonNull(v, "metadata value of " + k)));
      }
      long offset = 0;
      for (var e : inDefinedOrder(tensors)) {
        String name = e.getKey();
        if (name == null || name.isEmpty() || name.equals(METADATA)) {
          throw new IllegalArgumentException(file + ": tensor name '" + name + "' is not allowed");
        }
        Tensor t = e.getValue();
        DType dtype = DType.of(t, file + ": tensor '" + name + "'");
        Tensor c = TorchException.wrap("preparing " + name, () -> t.detach().cpu().contiguous());
        long bytes = c.numel() * dtype.itemSize();
        ObjectNode entry = header.putObject(name);
        entry.put("dtype", dtype.safetensorsName());
        ArrayNode shape = entry.putArray("shape");
        for (long s : Tensors.shape(c)) shape.add(s);
        entry.putArray("data_offsets").add(offset).add(offset + bytes);
        offset += bytes;
        blocks.add(new Block(c, bytes));
      }
      byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
      int padded = (json.length + 7) / 8 * 8; // keeps the data section 8-byte aligned
      ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
      head.putLong(padded).put(json);
      while (head.hasRemaining()) head.put((byte) ' ');
      head.flip();

      Path tmp = Files.createTempFile(folder, "." + target.getFileName() + ".", ".tmp");
      try {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
          writeFully(ch, head);
          for (Block b : blocks) {
            long n = b.bytes();
            if (n == 0) continue;
            BytePointer src = new BytePointer(b.data().data_ptr());
            for (long off = 0; off < n; off += IO_CHUNK) {
              long len = Math.min(IO_CHUNK, n - off);
              writeFully(ch, src.position(off).limit(off + len).asBuffer());
            }
          }
          ch.force(true);
        }
        try {
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        syncFolder(folder);
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** The map's own order when it has one, else by name. */
  private static List<Map.Entry<String, Tensor>> inDefinedOrder(Map<String, Tensor> tensors) {
    List<Map.Entry<String, Tensor>> entries = new ArrayList<>(tensors.entrySet());
    if (!(tensors instanceof SequencedMap)) {
      entries.sort(Map.Entry.comparingByKey(Comparator.nullsFirst(Comparator.naturalOrder())));
    }
    return entries;
  }

  /** Makes the rename durable (POSIX needs the folder synced); not every file system allows it, which is fine. */
  private static void syncFolder(Path folder) {
    try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // best effort
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) throw CheckpointException.of(file, "ends at byte " + pos + " (truncated)");
      pos += n;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) ch.write(buf);
  }

  private static String safetensorsNames() {
    StringBuilder b = new StringBuilder();
    for (DType d : DType.values()) b.append(b.isEmpty() ? "" : ", ").append(d.safetensorsName());
    return b.toString().toUpperCase(Locale.ROOT);
  }
}
