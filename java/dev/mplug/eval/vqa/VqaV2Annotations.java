package dev.mplug.eval.vqa;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ground truth of the official VQA v2 files, as the reference's {@code VQA(annotation_file, question_file)} takes
 * them: annotations {@code {"annotations": [{"question_id", "question_type", "answer_type", "answers": [{"answer",
 * "answer_id"}, ...], ...}]}} and questions {@code {"questions": [{"question_id", "question", "image_id"}]}}. The
 * questions file adds nothing to the accuracy; it is checked to list the same questions, so that a results file is
 * never scored against the annotations of another split. Problems throw {@link IllegalArgumentException} naming the
 * file and the question.
 */
public final class VqaV2Annotations {
  private static final ObjectMapper JSON = new ObjectMapper();

  private VqaV2Annotations() {}

  /** question_id (as text) -> question, in the annotation file's order (the order the reference sums in). */
  public static Map<String, VqaAccuracy.Question> read(Path annotations, Path questions) {
    Map<String, VqaAccuracy.Question> gt = new LinkedHashMap<>();
    List<JsonNode> entries = list(annotations, "annotations");
    for (int i = 0; i < entries.size(); i++) {
      JsonNode a = entries.get(i);
      String id = questionId(annotations, "annotations", i, a);
      String where = annotations + ": question_id " + id;
      if (gt.containsKey(id)) throw new IllegalArgumentException(where + " appears a second time");
      JsonNode answers = a.get("answers");
      if (answers == null || !answers.isArray() || answers.isEmpty()) {
        throw new IllegalArgumentException(where + ": \"answers\" must be a non-empty list of {\"answer\": ...}");
      }
      List<String> texts = new ArrayList<>();
      for (JsonNode answer : answers) {
        JsonNode text = answer.get("answer");
        if (text == null || !text.isTextual()) {
          throw new IllegalArgumentException(where + ": every entry of \"answers\" needs an \"answer\" string");
        }
        texts.add(text.asText());
      }
      gt.put(id, new VqaAccuracy.Question(texts, string(a, "answer_type", where), string(a, "question_type", where)));
    }
    Set<String> listed = new HashSet<>();
    List<JsonNode> qs = list(questions, "questions");
    for (int i = 0; i < qs.size(); i++) {
      String id = questionId(questions, "questions", i, qs.get(i));
      if (!gt.containsKey(id)) {
        throw new IllegalArgumentException(questions + ": question_id " + id + " has no annotation in " + annotations);
      }
      listed.add(id);
    }
    for (String id : gt.keySet()) {
      if (!listed.contains(id)) {
        throw new IllegalArgumentException(annotations + ": question_id " + id + " is not in " + questions);
      }
    }
    return gt;
  }

  /** The array under {@code key} of the file's top-level object. */
  private static List<JsonNode> list(Path file, String key) {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("VQA file " + file + " does not exist");
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at != null && at.getLineNr() > 0 ? ":" + at.getLineNr() + ":" + at.getColumnNr() : "";
      throw new IllegalArgumentException(file + where + ": malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read VQA file " + file, e);
    }
    if (root == null || !root.isObject() || !root.path(key).isArray()) {
      throw new IllegalArgumentException(file + ": expected an object with a list \"" + key + "\" (the VQA v2 format)");
    }
    List<JsonNode> out = new ArrayList<>();
    root.get(key).forEach(out::add);
    return out;
  }

  private static String questionId(Path file, String key, int index, JsonNode entry) {
    JsonNode id = entry.get("question_id");
    if (id == null || !(id.isIntegralNumber() || id.isTextual())) {
      throw new IllegalArgumentException(file + ": " + key + "[" + index + "] needs a \"question_id\" (an integer or "
          + "a string)");
    }
    return id.asText();
  }

  private static String string(JsonNode entry, String key, String where) {
    JsonNode v = entry.get(key);
    if (v == null || !v.isTextual()) throw new IllegalArgumentException(where + ": \"" + key + "\" must be a string");
    return v.asText();
  }
}
