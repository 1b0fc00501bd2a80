package dev.mplug.task.vqa;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.eval.vqa.AnswerNormalization;
import dev.mplug.eval.vqa.VqaAccuracy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reference answers of a VQA file in the official mPLUG format ({@code [{"question_id", "question", "answer":
 * [..], ...}]}, e.g. the shapes world's {@code vqa_val.json}) as the VQA accuracy reads them, by question id (as text),
 * in file order.
 *
 * <p>The format has the human answers but no answer or question types. The answer type is derived simply from the
 * most common answer: "yes/no" for yes or no, "number" for digits or a number word, else "other"; the question type
 * is left empty. A question with a single answer (the shapes world, Visual Genome) counts as ten agreeing humans:
 * with one answer the leave-one-out of the VQA accuracy would score every result 0.
 */
public final class VqaReferences {
  /** Human answers a lone answer stands for (the ten of VQA v2). */
  static final int HUMANS = 10;
  private static final Set<String> YES_NO = Set.of("yes", "no");
  private static final Set<String> NUMBER_WORDS =
      Set.of("none", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten");

  private VqaReferences() {}

  /** Reads {@code file}; an entry without answers, a missing or duplicate id is one line naming the file and entry. */
  public static Map<String, VqaAccuracy.Question> read(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("eval.annotations: " + file + " is not valid JSON (line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("eval.annotations: cannot read " + file + " (" + e.getMessage() + ")", e);
    }
    if (root == null || !root.isArray()) {
      throw new IllegalArgumentException("eval.annotations: " + file + " is not a JSON list of VQA questions");
    }
    Map<String, VqaAccuracy.Question> out = new LinkedHashMap<>();
    for (int i = 0; i < root.size(); i++) {
      JsonNode e = root.get(i);
      JsonNode id = e.get("question_id");
      if (id == null || !(id.isIntegralNumber() || id.isTextual())) {
        throw new IllegalArgumentException("eval.annotations: " + file + " entry " + i + " has no question_id");
      }
      String qid = id.asText().strip();
      List<String> answers = answers(e.get("answer"), file, qid);
      if (answers.isEmpty()) {
        throw new IllegalArgumentException("eval.annotations: " + file + " question " + qid + " has no answers (an "
            + "evaluation file needs them: vqa_val.json, not vqa_test.json)");
      }
      if (out.put(qid, question(answers)) != null) {
        throw new IllegalArgumentException("eval.annotations: " + file + " has question " + qid + " twice");
      }
    }
    return out;
  }

  /** The ground truth of one question from its answers (see the class comment). */
  static VqaAccuracy.Question question(List<String> answers) {
    List<String> humans = answers.size() == 1 ? Collections.nCopies(HUMANS, answers.get(0)) : answers;
    return new VqaAccuracy.Question(humans, answerType(mostCommon(answers)), "");
  }

  /** The most frequent answer after the VQA cleaning (the first of equals). */
  static String mostCommon(List<String> answers) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String a : answers) counts.merge(AnswerNormalization.clean(a), 1, Integer::sum);
    String best = null;
    for (Map.Entry<String, Integer> c : counts.entrySet()) {
      if (best == null || c.getValue() > counts.get(best)) best = c.getKey();
    }
    return best;
  }

  static String answerType(String answer) {
    String a = AnswerNormalization.normalize(answer);
    if (YES_NO.contains(a)) return "yes/no";
    if (a.matches("\\d+") || NUMBER_WORDS.contains(a)) return "number";
    return "other";
  }

  private static List<String> answers(JsonNode v, Path file, String qid) {
    List<String> out = new ArrayList<>();
    if (v == null) return out;
    if (v.isTextual()) {
      out.add(v.asText());
      return out;
    }
    if (v.isArray()) {
      for (JsonNode a : v) {
        if (!a.isTextual()) break;
        out.add(a.asText());
      }
      if (out.size() == v.size()) return out;
    }
    throw new IllegalArgumentException("eval.annotations: " + file + " question " + qid + ": \"answer\" must be a "
        + "string or a list of strings, got " + v);
  }
}
