package dev.mplug.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes pickle opcodes by hand, to craft checkpoints (good and malicious) that torch.save would never write. */
final class PickleBytes {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  static PickleBytes protocol(int p) {
    PickleBytes b = new PickleBytes();
    b.op(0x80).op(p);
    return b;
  }

  PickleBytes op(int... bytes) {
    for (int x : bytes) out.write(x);
    return this;
  }

  PickleBytes global(String module, String name) {
    op('c');
    out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    return this;
  }

  /** BINUNICODE. */
  PickleBytes str(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    op('X');
    int n = b.length;
    op(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
    out.writeBytes(b);
    return this;
  }

  /** BININT (4 bytes, signed). */
  PickleBytes integer(long v) {
    int n = (int) v;
    return op('J', n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
  }

  PickleBytes mark() {
    return op('(');
  }

  PickleBytes tuple() {
    return op('t');
  }

  PickleBytes emptyTuple() {
    return op(')');
  }

  PickleBytes tuple1() {
    return op(0x85);
  }

  PickleBytes reduce() {
    return op('R');
  }

  PickleBytes emptyDict() {
    return op('}');
  }

  PickleBytes setItem() {
    return op('s');
  }

  PickleBytes setItems() {
    return op('u');
  }

  PickleBytes stop() {
    return op('.');
  }

  PickleBytes orderedDict() {
    return global("collections", "OrderedDict").emptyTuple().reduce();
  }

  PickleBytes ints(long... values) {
    mark();
    for (long v : values) integer(v);
    return tuple();
  }

  /** _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()). */
  PickleBytes tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
    global("torch._utils", "_rebuild_tensor_v2").mark();
    mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).tuple().op('Q');
    integer(offset).ints(size).ints(stride).op(0x89).orderedDict();
    return tuple().reduce();
  }

  byte[] bytes() {
    return out.toByteArray();
  }

  /** A zip like torch.save writes: uncompressed entries under {@code top/}. */
  static Path zip(Path file, String top, Map<String, byte[]> entries) throws IOException {
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
      for (var e : entries.entrySet()) {
        ZipEntry entry = new ZipEntry(top + "/" + e.getKey());
        CRC32 crc = new CRC32();
        crc.update(e.getValue());
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(e.getValue().length);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
    return file;
  }

  static byte[] floats(float... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) b.putFloat(v);
    return b.array();
  }
}
