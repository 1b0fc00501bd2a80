package dev.mplug.train.metrics;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;

/** Metrics as JSON lines: {@code {"step": 10, "time": 1732712345.1, "loss/itc": 2.31, ...}}, appended. */
public final class JsonLinesSink implements MetricsSink {
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
    StringBuilder line = new StringBuilder(64).append("{\"step\": ").append(step)
        .append(", \"time\": ").append(String.format(Locale.ROOT, "%.3f", System.currentTimeMillis() / 1000.0));
    for (var e : scalars.entrySet()) {
      double v = e.getValue();
      line.append(", \"").append(e.getKey().replace("\"", "'")).append("\": ")
          .append(Double.isFinite(v) ? Double.toString(v) : "\"" + v + "\"");
    }
    try {
      out.write(line.append("}\n").toString());
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
