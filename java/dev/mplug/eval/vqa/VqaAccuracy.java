package dev.mplug.eval.vqa;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VQA v2 accuracy exactly as the official {@code vqaEval.py} (GT-Vision-Lab/VQA) computes it.
 *
 * <p>Per question: every answer is {@link AnswerNormalization#clean cleaned}; if the human answers are not all the
 * same, they and the result are {@link AnswerNormalization#normalize normalised} (when they are all the same, nothing
 * more is done, so a result "Yes" or "yes." scores 0 against ten "yes": the reference's quirk, kept). Then each human
 * answer in turn is left out and the result scores {@code min(1, matches / 3)} against the other answers; the
 * question's accuracy is the mean of these scores. With the ten answers of VQA v2 that is 0.3 for one matching human
 * answer, 0.6 for two, 0.9 for three and 1 from four on. Fewer answers are allowed (the leave-one-out runs over those
 * given), which the reference would also do; the reference leaves out the answer dicts equal to the current one, which
 * is exactly one in VQA v2 (each has its own answer_id), and here it is always exactly one.
 *
 * <p>Overall, per answer type and per question type: {@code round(100 * sum / count, 2)} over the questions, summed
 * one after the other in the order given (the annotation file's, as the reference); per question
 * {@code round(100 * accuracy, 2)}. {@code round} is Python 3's: the double's exact value rounded half to even, so
 * 3.125 gives 3.12 (Python 2 gave 3.13).
 */
public final class VqaAccuracy {
  /** What the reference's leave-one-out divides the matches by: three matching humans make an answer fully right. */
  static final double HUMANS_FOR_FULL_CREDIT = 3;

  /**
   * A question's ground truth: its human answers (10 in VQA v2, at least one), answer type ("yes/no", "number",
   * "other") and question type ("what color is the", ...).
   */
  public record Question(List<String> answers, String answerType, String questionType) {
    public Question {
      answers = List.copyOf(answers);
      if (answers.isEmpty()) throw new IllegalArgumentException("a VQA question needs at least one human answer");
    }
  }

  /**
   * Accuracies in percent rounded to 2 decimals; the maps keep the order in which the types and questions first
   * appear.
   */
  public record Report(double overall, Map<String, Double> perAnswerType, Map<String, Double> perQuestionType,
      Map<String, Double> perQuestion) {
    public Report {
      perAnswerType = Collections.unmodifiableMap(new LinkedHashMap<>(perAnswerType));
      perQuestionType = Collections.unmodifiableMap(new LinkedHashMap<>(perQuestionType));
      perQuestion = Collections.unmodifiableMap(new LinkedHashMap<>(perQuestion));
    }
  }

  private VqaAccuracy() {}

  /**
   * Scores {@code results} (question id -> answer) against {@code gt} (question id -> question, summed in this map's
   * order). Both must hold the same ids, as the reference's {@code loadRes} asserts; otherwise an
   * {@link IllegalArgumentException} names a missing or unknown id.
   */
  public static Report score(Map<String, Question> gt, Map<String, String> results) {
    if (gt.isEmpty()) throw new IllegalArgumentException("no questions to score");
    for (String id : results.keySet()) {
      if (!gt.containsKey(id)) throw new IllegalArgumentException("result for question " + id + " which has no ground "
          + "truth");
    }
    List<Double> all = new ArrayList<>();
    Map<String, List<Double>> byAnswerType = new LinkedHashMap<>();
    Map<String, List<Double>> byQuestionType = new LinkedHashMap<>();
    Map<String, Double> perQuestion = new LinkedHashMap<>();
    for (Map.Entry<String, Question> e : gt.entrySet()) {
      String answer = results.get(e.getKey());
      if (answer == null) throw new IllegalArgumentException("no result for question " + e.getKey());
      Question q = e.getValue();
      double accuracy = accuracy(q.answers(), answer);
      all.add(accuracy);
      byAnswerType.computeIfAbsent(q.answerType(), k -> new ArrayList<>()).add(accuracy);
      byQuestionType.computeIfAbsent(q.questionType(), k -> new ArrayList<>()).add(accuracy);
      perQuestion.put(e.getKey(), round2(100 * accuracy));
    }
    return new Report(percent(all), percents(byAnswerType), percents(byQuestionType), perQuestion);
  }

  /** One question's accuracy in [0, 1], unrounded (see the class comment). */
  public static double accuracy(List<String> humanAnswers, String result) {
    List<String> gt = humanAnswers.stream().map(AnswerNormalization::clean).toList();
    String res = AnswerNormalization.clean(result);
    if (new HashSet<>(gt).size() > 1) {
      gt = gt.stream().map(AnswerNormalization::normalize).toList();
      res = AnswerNormalization.normalize(res);
    }
    double sum = 0;
    for (int left = 0; left < gt.size(); left++) {
      int matches = 0;
      for (int other = 0; other < gt.size(); other++) {
        if (other != left && gt.get(other).equals(res)) matches++;
      }
      sum += Math.min(1, matches / HUMANS_FOR_FULL_CREDIT);
    }
    return sum / gt.size();
  }

  /** Python 3's {@code round(x, 2)}: the exact binary value rounded half to even, back to the nearest double. */
  static double round2(double x) {
    return new BigDecimal(x).setScale(2, RoundingMode.HALF_EVEN).doubleValue();
  }

  private static double percent(List<Double> accuracies) {
    double sum = 0;
    for (double a : accuracies) sum += a;
    return round2(100 * sum / accuracies.size());
  }

  private static Map<String, Double> percents(Map<String, List<Double>> groups) {
    Map<String, Double> out = new LinkedHashMap<>();
    groups.forEach((type, accuracies) -> out.put(type, percent(accuracies)));
    return out;
  }
}
