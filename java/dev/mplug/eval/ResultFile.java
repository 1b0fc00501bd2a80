package dev.mplug.eval;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A results file as the reference evaluation tools take it: a JSON array of objects, one per annotated item, naming
 * the item by an id field ({@code "question_id"}, {@code "ref_id"}, {@code "image_id"}) and carrying the prediction
 * ({@code "answer"}, {@code "bbox"}, {@code "caption"}), which a caller-supplied function reads from each
 * {@link Entry}.
 *
 * <p>Ids may be JSON integers or strings and are compared as text, so {@code 42} and {@code "42"} are the same item
 * (but {@code "042"} is not). Like the reference's {@code loadRes}, the results must cover exactly the annotated
 * items. Every problem is an {@link IllegalArgumentException} with one line naming the file, the line and the id:
 * malformed JSON (with line and column), a top level that is not an array, an entry that is not an object, a missing
 * or mistyped id, a duplicate id, a mistyped value (via {@link Entry}), an id not in the annotations, an annotated id
 * without a result.
 */
public final class ResultFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One result object, where it is ({@code file:line}) and its id as text; typed accessors name both on error. */
  public record Entry(Path file, int line, String idField, String id, JsonNode node) {
    /** A required string field. */
    public String string(String field) {
      JsonNode v = node.get(field);
      if (v == null) throw bad("no \"" + field + "\"");
      if (!v.isTextual()) throw bad("\"" + field + "\" must be a string, got " + describe(v));
      return v.asText();
    }

    /** A required list of exactly {@code n} numbers. */
    public double[] numbers(String field, int n) {
      JsonNode v = node.get(field);
      if (v == null) throw bad("no \"" + field + "\"");
      if (!v.isArray()) throw bad("\"" + field + "\" must be a list of " + n + " numbers, got " + describe(v));
      if (v.size() != n) {
        throw bad("\"" + field + "\" must be a list of " + n + " numbers, got " + v.size() + " (wrong arity)");
      }
      double[] out = new double[n];
      for (int i = 0; i < n; i++) {
        JsonNode e = v.get(i);
        if (!e.isNumber()) throw bad("\"" + field + "\" element " + i + " must be a number, got " + describe(e));
        out[i] = e.asDouble();
      }
      return out;
    }

    /** An error naming this entry: {@code file:line: idField id: problem}. */
    public IllegalArgumentException bad(String problem) {
      return new IllegalArgumentException(file + ":" + line + ": " + idField + " " + id + ": " + problem);
    }
  }

  private ResultFile() {}

  /**
   * Reads {@code file}, one value per entry by {@code value}, and checks that the ids are exactly {@code annotated}.
   *
   * @param idField the field naming the item, e.g. {@code "question_id"}
   * @param annotated the ids of the annotations, as text; the first one without a result is the one reported
   * @return id -> value, in file order
   */
  public static <V> Map<String, V> read(Path file, String idField, Collection<String> annotated,
      Function<Entry, V> value) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("results file " + file + " does not exist");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read results file " + file, e);
    }
    Set<String> known = new HashSet<>(annotated);
    Map<String, V> values = new LinkedHashMap<>();
    Map<String, Integer> lineOf = new HashMap<>();
    try (JsonParser p = JSON.createParser(bytes)) {
      JsonToken first = p.nextToken();
      if (first != JsonToken.START_ARRAY) {
        throw new IllegalArgumentException(file + ": expected a JSON array of results, got "
            + (first == null ? "an empty file" : describe(JSON.readTree(p))));
      }
      int index = 0;
      while (p.nextToken() != JsonToken.END_ARRAY) {
        if (p.currentToken() == null) throw at(file, p.currentLocation(), "unexpected end of file inside the array");
        int line = p.currentTokenLocation().getLineNr();
        JsonNode node = JSON.readTree(p);
        String where = file + ":" + line + ": result " + index++;
        if (!node.isObject()) {
          throw new IllegalArgumentException(where + " must be a JSON object, got " + describe(node));
        }
        JsonNode idNode = node.get(idField);
        if (idNode == null) throw new IllegalArgumentException(where + " has no \"" + idField + "\"");
        if (!idNode.isTextual() && !idNode.isIntegralNumber()) {
          throw new IllegalArgumentException(where + ": \"" + idField + "\" must be an integer or a string, got "
              + describe(idNode));
        }
        Entry entry = new Entry(file, line, idField, idNode.asText(), node);
        Integer earlier = lineOf.putIfAbsent(entry.id(), line);
        if (earlier != null) throw entry.bad("a second result for this item (the first is at line " + earlier + ")");
        if (!known.contains(entry.id())) throw entry.bad("not in the annotations");
        values.put(entry.id(), value.apply(entry));
      }
      if (p.nextToken() != null) throw at(file, p.currentTokenLocation(), "unexpected content after the array");
    } catch (JsonProcessingException e) {
      throw at(file, e.getLocation(), "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse results file " + file, e);
    }
    for (String id : annotated) {
      if (!values.containsKey(id)) {
        long missing = known.stream().filter(k -> !values.containsKey(k)).count();
        throw new IllegalArgumentException(file + ": no result for " + idField + " " + id
            + (missing == 2 ? " nor for 1 other annotated item" : missing > 2 ? " nor for " + (missing - 1)
            + " other annotated items" : ""));
      }
    }
    return values;
  }

  private static IllegalArgumentException at(Path file, JsonLocation at, String problem) {
    String where = at != null && at.getLineNr() > 0 ? ":" + at.getLineNr() + ":" + at.getColumnNr() : "";
    return new IllegalArgumentException(file + where + ": " + problem.lines().findFirst().orElse(""));
  }

  /** A JSON value for an error message: its kind and a short preview, e.g. {@code a number (3)}. */
  static String describe(JsonNode v) {
    String text = v.toString();
    String preview = text.length() > 40 ? text.substring(0, 37) + "..." : text;
    String kind = switch (v.getNodeType()) {
      case ARRAY -> "a list";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> v.getNodeType().toString().toLowerCase(Locale.ROOT);
    };
    return v.isNull() ? kind : kind + " (" + preview + ")";
  }
}
