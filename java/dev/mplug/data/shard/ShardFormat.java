package dev.mplug.data.shard;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The record shard file format, version 1 (all integers little-endian):
 *
 * <pre>
 * header   "MPLUGREC" (8 bytes) | u32 version | u32 reserved (0)                           16 bytes
 * record   u32 length | u32 CRC32C(length field) | payload (length bytes) | u32 CRC32C(payload)
 *          ... one per record; payload = a serialized mplug.records.Record
 * index    u64 offset of each record's frame, in order                                     8 bytes x count
 * footer   u64 index offset | u64 count | u32 CRC32C(index) | u32 reserved | "MPLUGIDX"      32 bytes
 * </pre>
 *
 * The length has its own checksum (as in TFRecord) so a corrupt length is told apart from a corrupt payload. The
 * index lets a reader seek to record i; without a valid footer (a truncated file) the records are recovered by
 * scanning the frames from the header.
 */
final class ShardFormat {
  static final byte[] MAGIC = "MPLUGREC".getBytes(StandardCharsets.US_ASCII);
  static final byte[] FOOTER_MAGIC = "MPLUGIDX".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HEADER_BYTES = 16;
  static final int FRAME_HEAD_BYTES = 8;       // length + length CRC
  static final int FRAME_TAIL_BYTES = 4;       // payload CRC
  static final int FOOTER_BYTES = 32;
  /** File name suffix of shard files. */
  static final String SUFFIX = ".mplugrec";

  private ShardFormat() {}

  static int crc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  static int crc32c(ByteBuffer buffer) {
    CRC32C crc = new CRC32C();
    crc.update(buffer.duplicate());
    return (int) crc.getValue();
  }

  static int lengthCrc(int length) {
    byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(length).array();
    return crc32c(b, 0, 4);
  }

  static ByteBuffer le(int capacity) {
    return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
  }
}
