package dev.mplug.data.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.mplug.data.BadSampleException;
import dev.mplug.data.proto.Media;
import dev.mplug.data.proto.Record;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardTest {
  @TempDir Path dir;

  /** Record i: a caption naming i and i*7 pseudo-random media bytes (record 0 has no media bytes). */
  static Record record(int i) {
    byte[] bytes = new byte[i * 7];
    new Random(i).nextBytes(bytes);
    return Record.newBuilder().setTask("pretrain").setSource("ann.json:" + (i + 2)).addCaptions("caption " + i)
        .addMedia(Media.newBuilder().setName("images/" + i + ".jpg").setData(ByteString.copyFrom(bytes))).build();
  }

  Path writeShard(String name, int from, int count) {
    Path f = dir.resolve(name);
    try (ShardWriter w = new ShardWriter(f)) {
      for (int i = from; i < from + count; i++) assertEquals(i - from, w.write(record(i)));
    }
    return f;
  }

  @Test
  void roundTripAndSeekWithinAShard() {
    Path f = writeShard("shard-00000.mplugrec", 0, 20);
    assertFalse(Files.exists(dir.resolve("shard-00000.mplugrec.tmp")));
    try (ShardReader r = ShardReader.open(f)) {
      assertEquals(20, r.size());
      assertTrue(r.problem().isEmpty());
      for (int i : new int[] {13, 0, 19, 5}) assertEquals(record(i), r.get(i));   // any order: seeks
      assertEquals(f + "#13", r.source(13));
      assertThrows(IndexOutOfBoundsException.class, () -> r.get(20));
    }
  }

  @Test
  void shardSetMapsGlobalIndicesAcrossShards() {
    writeShard("shard-00000.mplugrec", 0, 3);
    writeShard("shard-00001.mplugrec", 3, 0);      // an empty shard is allowed
    writeShard("shard-00002.mplugrec", 3, 5);
    writeShard("shard-00003.mplugrec", 8, 1);
    try (ShardSet s = ShardSet.open(dir)) {
      assertEquals(9, s.size());
      List<Record> all = new ArrayList<>();
      for (int i = 0; i < s.size(); i++) all.add(s.get(i));
      for (int i = 0; i < 9; i++) assertEquals(record(i), all.get(i), "record " + i);
      assertEquals(dir.resolve("shard-00002.mplugrec") + "#0", s.source(3));
      assertEquals(dir.resolve("shard-00003.mplugrec") + "#0", s.source(8));
    }
  }

  @Test
  void corruptPayloadAndLengthAreReportedWithShardAndIndex() throws IOException {
    Path f = writeShard("s.mplugrec", 0, 6);
    long[] offsets = offsets(f);
    flip(f, offsets[3] + 8 + 5);                     // a payload byte of record 3
    flip(f, offsets[4] + 1);                         // a length byte of record 4
    try (ShardReader r = ShardReader.open(f)) {
      BadSampleException payload = assertThrows(BadSampleException.class, () -> r.get(3));
      assertEquals(f + "#3", payload.source());
      assertTrue(payload.reason().startsWith("payload CRC32C mismatch"), payload.reason());
      BadSampleException length = assertThrows(BadSampleException.class, () -> r.get(4));
      assertEquals(f + "#4", length.source());
      assertEquals("corrupt length field (CRC32C mismatch)", length.reason());
      assertEquals(record(2), r.get(2));             // neighbours unaffected
      assertEquals(record(5), r.get(5));
    }
  }

  @Test
  void truncatedShardIsScannedAndTheCutRecordReported() throws IOException {
    Path f = writeShard("s.mplugrec", 0, 6);
    long[] offsets = offsets(f);
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(offsets[4] + 8 + 10);            // cut inside record 4's payload
    }
    try (ShardReader r = ShardReader.open(f)) {
      assertTrue(r.problem().orElseThrow().contains("no valid index footer"), r.problem().orElseThrow());
      assertEquals(5, r.size());                     // records 0-3 and the cut record 4
      for (int i = 0; i < 4; i++) assertEquals(record(i), r.get(i));
      BadSampleException e = assertThrows(BadSampleException.class, () -> r.get(4));
      assertEquals(f + "#4", e.source());
      assertTrue(e.reason().startsWith("truncated"), e.reason());
    }
  }

  @Test
  void shardCutInsideTheIndexKeepsEveryRecord() throws IOException {
    Path f = writeShard("s.mplugrec", 0, 4);
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(raf.length() - 40);              // footer and part of the index gone
    }
    try (ShardReader r = ShardReader.open(f)) {
      assertEquals(4, r.size());
      for (int i = 0; i < 4; i++) assertEquals(record(i), r.get(i));
      assertTrue(r.problem().orElseThrow().contains("are not a record frame"), r.problem().orElseThrow());
    }
  }

  @Test
  void notAShardIsAClearError() throws IOException {
    Path text = dir.resolve("x.mplugrec");
    Files.writeString(text, "this is not a shard at all");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ShardReader.open(text)).getMessage()
        .contains("not a record shard"));
    Path f = writeShard("v.mplugrec", 0, 1);
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.seek(8);
      raf.write(new byte[] {9, 0, 0, 0});            // version 9
    }
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ShardReader.open(f)).getMessage()
        .contains("version 9"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ShardSet.open(dir.resolve("empty")))
        .getMessage().contains("does not exist"));
  }

  /** Record offsets read back from the index, independently of the reader. */
  static long[] offsets(Path f) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
      raf.seek(raf.length() - 32);
      long indexOffset = Long.reverseBytes(raf.readLong());
      long count = Long.reverseBytes(raf.readLong());
      long[] out = new long[(int) count];
      raf.seek(indexOffset);
      for (int i = 0; i < count; i++) out[i] = Long.reverseBytes(raf.readLong());
      assertEquals(16, out[0], "the first record follows the 16-byte header");
      return out;
    }
  }

  static void flip(Path f, long at) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x5a);
    }
  }

  @Test
  void headerBytesAreTheMagicAndVersion() throws IOException {
    Path f = writeShard("h.mplugrec", 0, 1);
    byte[] head = Arrays.copyOf(Files.readAllBytes(f), 12);
    assertArrayEquals(new byte[] {'M', 'P', 'L', 'U', 'G', 'R', 'E', 'C', 1, 0, 0, 0}, head);
  }
}
