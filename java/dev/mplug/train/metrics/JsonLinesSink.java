package dev.mplug.train.metrics;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Metrics as JSON lines: {@code {"step":10,"time":1732712345.1,"loss/itc":2.31,...}}, appended, one object per
 * {@link #write}. Written by Jackson, so any key is escaped correctly. JSON has no NaN or infinity: a non-finite value
 * is written as the string {@code "NaN"}, {@code "Infinity"} or {@code "-Infinity"} (which Python's {@code float()}
 * and JavaScript's {@code Number()} read back), so a diverging loss stays visible instead of becoming null.
 */
public final class JsonLinesSink implements MetricsSink {
  /** Strict JSON: non-finite numbers quoted (the default, made explicit); the writer stays open and buffered. */
  private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
      .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET).disable(SerializationFeature.FLUSH_AFTER_WRITE_VALUE).build();

  private final Path file;
  private final BufferedWriter out;

  public JsonLinesSink(Path file) {
    this.file = file;
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open metrics file " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void write(long step, Map<String, Double> scalars) {
    ObjectNode line = JSON.createObjectNode();
    line.put("step", step);
    line.put("time", System.currentTimeMillis() / 1000.0);
    scalars.forEach(line::put);
    try {
      JSON.writeValue(out, line);
      out.write('\n');
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write metrics to " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write metrics to " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close metrics file " + file + ": " + e.getMessage(), e);
    }
  }
}
