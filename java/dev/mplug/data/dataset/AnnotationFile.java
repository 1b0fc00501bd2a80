package dev.mplug.data.dataset;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.BadSampleException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an annotation file into {@link Annotation}s, one per entry, each with its {@code file:line}: a JSON array of
 * objects (the official image datasets) or JSON Lines, one object per line (the video datasets); the format is told
 * by the first non-blank character ('[' = array).
 *
 * <p>Per-entry problems (a malformed JSON line, invalid UTF-8 inside an entry, an entry that is not an object) are
 * kept as failed annotations, so indices stay aligned with the file and the loader can report and replace them.
 * Problems that make the file unreadable as a whole (missing file, a syntax error in a JSON array, a top level that
 * is neither) throw {@link IllegalArgumentException} naming the file, line and column.
 */
final class AnnotationFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AnnotationFile() {}

  static List<Annotation> read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("annotation file " + file + " does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read annotation file " + file + ": " + e.getMessage(), e);
    }
    // A UTF-8 byte-order mark is not part of the JSON.
    boolean bom = bytes.length >= 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB && bytes[2] == (byte) 0xBF;
    int from = bom ? 3 : 0;
    int first = from;
    while (first < bytes.length && isBlank(bytes[first])) first++;
    if (first == bytes.length) throw new IllegalArgumentException("annotation file " + file + " is empty");
    return bytes[first] == '[' ? readArray(file, bytes, from) : readLines(file, bytes, from);
  }

  /** JSON Lines: each line decoded (strict UTF-8) and parsed on its own; blank lines are skipped. */
  private static List<Annotation> readLines(Path file, byte[] bytes, int from) {
    List<Annotation> out = new ArrayList<>();
    int line = 0;
    int start = from;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') end++;
      line++;
      String source = file + ":" + line;
      Utf8.Decoded decoded = Utf8.decode(bytes, start, end);
      String text = decoded.text().strip();
      if (!decoded.clean()) {
        out.add(Annotation.failed(new BadSampleException(source,
            "invalid UTF-8 at byte " + decoded.badBytes()[0] + " of the file")));
      } else if (!text.isEmpty()) {
        try {
          out.add(Annotation.of(source, JSON.readTree(text)));
        } catch (JsonProcessingException e) {
          out.add(Annotation.failed(new BadSampleException(source, "malformed JSON: " + e.getOriginalMessage())));
        }
      }
      start = end + 1;
    }
    return out;
  }

  /** One JSON array of objects; an element spanning invalid UTF-8 becomes a failed annotation. */
  private static List<Annotation> readArray(Path file, byte[] bytes, int from) {
    Utf8.Decoded decoded = Utf8.decode(bytes, from, bytes.length);
    String text = decoded.text();
    List<Annotation> out = new ArrayList<>();
    try (JsonParser p = JSON.createParser(text)) {
      if (p.nextToken() != JsonToken.START_ARRAY) throw syntax(file, p.currentTokenLocation(), "expected a JSON array");
      while (p.nextToken() != JsonToken.END_ARRAY) {
        if (p.currentToken() == null) {
          throw syntax(file, p.currentLocation(), "unexpected end of file inside the array");
        }
        JsonLocation at = p.currentTokenLocation();
        String source = file + ":" + at.getLineNr();
        JsonNode node = JSON.readTree(p);
        int bad = decoded.firstBadIn(at.getCharOffset(), p.currentLocation().getCharOffset());
        if (bad >= 0) {
          out.add(Annotation.failed(new BadSampleException(source,
              "invalid UTF-8 at byte " + decoded.badBytes()[bad] + " of the file")));
        } else {
          out.add(Annotation.of(source, node));
        }
      }
      if (p.nextToken() != null) throw syntax(file, p.currentTokenLocation(), "unexpected content after the array");
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new IllegalArgumentException(file + (at != null ? ":" + at.getLineNr() + ":" + at.getColumnNr() : "")
          + ": malformed JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse annotation file " + file + ": " + e.getMessage(), e);
    }
    return out;
  }

  private static IllegalArgumentException syntax(Path file, JsonLocation at, String what) {
    return new IllegalArgumentException(file + ":" + at.getLineNr() + ":" + at.getColumnNr() + ": " + what);
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }
}
