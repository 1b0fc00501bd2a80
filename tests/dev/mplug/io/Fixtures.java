package dev.mplug.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The official mPLUG fixtures shipped in tests/fixtures/mplug-official (a copy of the shared set, see its README). */
final class Fixtures {
  static final Path ROOT = Path.of("tests", "fixtures", "mplug-official");
  static final List<String> NAMES =
      List.of("vqa-base-stride3", "retrieval-large-stride6", "caption-base", "fusion-stride2");

  private Fixtures() {}

  static Path dir(String name) {
    Path d = ROOT.resolve(name);
    if (!Files.isDirectory(d)) throw new IllegalStateException("fixture folder missing: " + d.toAbsolutePath());
    return d;
  }

  static JsonNode config(String name) {
    try {
      return new ObjectMapper().readTree(dir(name).resolve("config.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static long[] shape(JsonNode shapeNode) {
    long[] s = new long[shapeNode.size()];
    for (int i = 0; i < s.length; i++) s[i] = shapeNode.get(i).asLong();
    return s;
  }
}
