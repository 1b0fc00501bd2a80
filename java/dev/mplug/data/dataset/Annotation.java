package dev.mplug.data.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mplug.data.BadSampleException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One entry of an annotation file as read: its JSON object and where it came from ({@code file:line}), or the reason
 * it cannot be used (malformed JSON line, invalid UTF-8, not an object). Typed accessors throw
 * {@link BadSampleException} naming the field and what was wrong with it.
 */
record Annotation(String source, JsonNode node, BadSampleException error) {
  static Annotation of(String source, JsonNode node) {
    if (!node.isObject()) {
      return failed(new BadSampleException(source, "expected a JSON object, got " + describe(node)));
    }
    return new Annotation(source, node, null);
  }

  static Annotation failed(BadSampleException error) {
    return new Annotation(error.source(), null, error);
  }

  /** The object, or the stored error. */
  JsonNode object() {
    if (error != null) throw error;
    return node;
  }

  /** A required string field. */
  public String string(String key) {
    JsonNode v = required(key);
    if (!v.isTextual()) throw wrongType(key, "a string", v);
    return v.asText();
  }

  /** A required non-empty list of strings, or a single string (as a one-element list). */
  public List<String> stringOrStrings(String key) {
    JsonNode v = required(key);
    if (v.isTextual()) return List.of(v.asText());
    if (v.isArray() && !v.isEmpty()) return strings(key, v);
    throw wrongType(key, "a string or a non-empty list of strings", v);
  }

  /** A required list of strings (may be empty). */
  public List<String> strings(String key) {
    JsonNode v = required(key);
    if (!v.isArray()) throw wrongType(key, "a list of strings", v);
    return strings(key, v);
  }

  /** A required integer field (a JSON integer, or a string of digits as some official files write ids). */
  public long integer(String key) {
    JsonNode v = required(key);
    if (v.isIntegralNumber() && v.canConvertToLong()) return v.asLong();
    if (v.isTextual()) {
      try {
        return Long.parseLong(v.asText().strip());
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw wrongType(key, "an integer", v);
  }

  /** A required list of exactly {@code n} finite numbers. */
  public double[] numbers(String key, int n) {
    JsonNode v = required(key);
    if (!v.isArray() || v.size() != n) throw wrongType(key, "a list of " + n + " numbers", v);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      JsonNode e = v.get(i);
      if (!e.isNumber() || !Double.isFinite(e.asDouble())) throw wrongType(key, "a list of " + n + " numbers", v);
      out[i] = e.asDouble();
    }
    return out;
  }

  /** A string or integer id, as text ("image_id" is a string in Karpathy files and a number elsewhere). */
  public String id(String key) {
    JsonNode v = required(key);
    if (v.isTextual() || v.isIntegralNumber()) return v.asText();
    throw wrongType(key, "a string or integer id", v);
  }

  /** A media path relative to the dataset root: a non-empty string, not absolute, not escaping the root. */
  public String relativePath(String key) {
    return checkRelative(key, string(key));
  }

  /** Whether the object has {@code key} (and it is not null). */
  public boolean has(String key) {
    JsonNode v = object().get(key);
    return v != null && !v.isNull();
  }

  /** The raw value of an optional field (null when absent). */
  public JsonNode raw(String key) {
    JsonNode v = object().get(key);
    return v == null || v.isNull() ? null : v;
  }

  String checkRelative(String key, String path) {
    if (path.isBlank()) throw bad("field \"" + key + "\" is an empty path");
    boolean drive = path.length() > 2 && Character.isLetter(path.charAt(0)) && path.charAt(1) == ':';
    if (path.startsWith("/") || path.startsWith("\\") || drive) {
      throw bad("field \"" + key + "\" must be a path relative to the dataset root, got absolute \"" + path + "\"");
    }
    for (String part : path.split("[/\\\\]")) {
      if (part.equals("..")) {
        throw bad("field \"" + key + "\" must stay inside the dataset root, got \"" + path + "\"");
      }
    }
    return path;
  }

  BadSampleException bad(String reason) {
    return new BadSampleException(source, reason);
  }

  BadSampleException wrongType(String key, String expected, JsonNode got) {
    return bad("field \"" + key + "\" must be " + expected + ", got " + describe(got));
  }

  private JsonNode required(String key) {
    JsonNode v = object().get(key);
    if (v == null || v.isNull()) throw bad("missing field \"" + key + "\"");
    return v;
  }

  private List<String> strings(String key, JsonNode array) {
    List<String> out = new ArrayList<>(array.size());
    for (JsonNode e : array) {
      if (!e.isTextual()) throw wrongType(key, "a list of strings", array);
      out.add(e.asText());
    }
    return List.copyOf(out);
  }

  static String describe(JsonNode v) {
    String text = v.toString();
    if (text.length() > 60) text = text.substring(0, 57) + "...";
    String type = switch (v.getNodeType()) {
      case ARRAY -> "list";
      case OBJECT -> "object";
      case STRING -> "string";
      case NUMBER -> "number";
      case BOOLEAN -> "boolean";
      default -> v.getNodeType().name().toLowerCase(Locale.ROOT);
    };
    return type + " " + text;
  }
}
