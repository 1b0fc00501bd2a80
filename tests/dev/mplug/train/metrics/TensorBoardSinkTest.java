package dev.mplug.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.train.metrics.proto.Event;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorBoardSinkTest {
  @TempDir Path tmp;

  /**
   * Known answers for TFRecord's masked CRC32C. CRC32C("123456789") = 0xE3069283 (the check value of RFC 3720,
   * appendix B.4); rotated right by 15 bits that is 0x2507C60D, plus 0xA282EAD8 gives 0xC78AB0E5. The first event
   * of every file (wall_time, file_version "brain.Event:2") is 24 bytes long; its length field, 24 as 8 little-endian
   * bytes, has CRC32C 0x4A65BFE4, masked 0x224B7FA3 (both from a bitwise CRC32C written separately, not this code).
   */
  @Test
  void maskedCrcKnownAnswers() {
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xC78AB0E5, TensorBoardSink.maskedCrc(check, 0, check.length));
    byte[] padded = "xx123456789yy".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xC78AB0E5, TensorBoardSink.maskedCrc(padded, 2, 9));
    byte[] length24 = {24, 0, 0, 0, 0, 0, 0, 0};
    assertEquals(0x224B7FA3, TensorBoardSink.maskedCrc(length24, 0, 8));
  }

  @Test
  void writesFramedEventsThatReadBack() throws Exception {
    Path file;
    try (TensorBoardSink sink = new TensorBoardSink(tmp)) {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("loss/itc", 2.5);
      m.put("lr", 1e-4);
      sink.write(7, m);
      file = sink.file();
    }
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    // the first record's frame, byte for byte: length 24, its masked CRC (known answer above)
    assertEquals(24, buf.getLong(0));
    assertEquals(0x224B7FA3, buf.getInt(8));
    List<Event> events = new ArrayList<>();
    while (buf.hasRemaining()) {
      long len = buf.getLong();
      assertEquals(TensorBoardSink.maskedCrc(bytes, buf.position() - 8, 8), buf.getInt(), "length CRC");
      int start = buf.position();
      assertEquals(TensorBoardSink.maskedCrc(bytes, start, (int) len), buf.getInt(start + (int) len), "data CRC");
      events.add(Event.parseFrom(ByteBuffer.wrap(bytes, start, (int) len)));
      buf.position(start + (int) len + 4);
    }
    assertEquals(2, events.size());
    assertEquals("brain.Event:2", events.get(0).getFileVersion());
    assertEquals(7, events.get(1).getStep());
    assertEquals("loss/itc", events.get(1).getSummary().getValue(0).getTag());
    assertEquals(2.5f, events.get(1).getSummary().getValue(0).getSimpleValue());
    assertEquals(1e-4f, events.get(1).getSummary().getValue(1).getSimpleValue());
  }
}
