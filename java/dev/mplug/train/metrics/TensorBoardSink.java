package dev.mplug.train.metrics;

import dev.mplug.train.metrics.proto.Event;
import dev.mplug.train.metrics.proto.Summary;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Scalars as a TensorBoard event file ({@code events.out.tfevents.<time>.<host>}) in the log directory, so
 * {@code tensorboard --logdir DIR} shows the curves. Records are TFRecord-framed: length, masked CRC32C of the length,
 * the serialized {@code Event}, masked CRC32C of the data.
 */
public final class TensorBoardSink implements MetricsSink {
  private final Path file;
  private final OutputStream out;

  public TensorBoardSink(Path logDir) {
    try {
      Files.createDirectories(logDir);
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "localhost";
      }
      this.file = logDir.resolve("events.out.tfevents." + (System.currentTimeMillis() / 1000) + "." + host);
      this.out = new BufferedOutputStream(Files.newOutputStream(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a TensorBoard log in " + logDir + ": " + e.getMessage(), e);
    }
    record(Event.newBuilder().setWallTime(now()).setFileVersion("brain.Event:2").build());
  }

  public Path file() {
    return file;
  }

  @Override
  public void write(long step, Map<String, Double> scalars) {
    Summary.Builder summary = Summary.newBuilder();
    scalars.forEach((tag, v) -> summary.addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue(v.floatValue())));
    record(Event.newBuilder().setWallTime(now()).setStep(step).setSummary(summary).build());
  }

  private static double now() {
    return System.currentTimeMillis() / 1000.0;
  }

  private void record(Event event) {
    byte[] data = event.toByteArray();
    ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(data.length);
    header.putInt(maskedCrc(header.array(), 0, 8));
    ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(data, 0, data.length));
    try {
      out.write(header.array());
      out.write(data);
      out.write(footer.array());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write TensorBoard events to " + file + ": " + e.getMessage(), e);
    }
  }

  /** TFRecord's CRC: CRC32C rotated right by 15 bits plus a constant. */
  static int maskedCrc(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + 0xa282ead8;
  }

  @Override
  public void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write TensorBoard events to " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
    }
  }
}
