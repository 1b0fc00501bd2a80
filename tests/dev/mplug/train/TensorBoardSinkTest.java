package dev.mplug.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mplug.train.metrics.TensorBoardSink;
import dev.mplug.train.metrics.proto.Event;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorBoardSinkTest {
  @TempDir Path tmp;

  static int masked(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    int v = (int) c.getValue();
    return ((v >>> 15) | (v << 17)) + 0xa282ead8;
  }

  @Test
  void writesFramedEventsThatReadBack() throws Exception {
    // CRC32C check value of "123456789" is 0xE3069283 (RFC 3720)
    CRC32C check = new CRC32C();
    check.update("123456789".getBytes());
    assertEquals(0xE3069283L, check.getValue());

    Path file;
    try (TensorBoardSink sink = new TensorBoardSink(tmp)) {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("loss/itc", 2.5);
      m.put("lr", 1e-4);
      sink.write(7, m);
      file = sink.file();
    }
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    List<Event> events = new ArrayList<>();
    while (buf.hasRemaining()) {
      byte[] head = new byte[8];
      buf.get(head);
      long len = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong();
      assertEquals(masked(head, 0, 8), buf.getInt(), "length CRC");
      byte[] data = new byte[(int) len];
      buf.get(data);
      assertEquals(masked(data, 0, data.length), buf.getInt(), "data CRC");
      events.add(Event.parseFrom(data));
    }
    assertEquals(2, events.size());
    assertEquals("brain.Event:2", events.get(0).getFileVersion());
    assertEquals(7, events.get(1).getStep());
    assertEquals("loss/itc", events.get(1).getSummary().getValue(0).getTag());
    assertEquals(2.5f, events.get(1).getSummary().getValue(0).getSimpleValue());
    assertEquals(1e-4f, events.get(1).getSummary().getValue(1).getSimpleValue());
  }
}
