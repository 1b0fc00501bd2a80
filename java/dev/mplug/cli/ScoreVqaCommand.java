package dev.mplug.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.eval.ResultFile;
import dev.mplug.eval.vqa.VqaAccuracy;
import dev.mplug.eval.vqa.VqaV2Annotations;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mplug score vqa}: VQA v2 accuracy of a results file {@code [{"question_id", "answer"}]} as the official
 * vqaEval computes it ({@link VqaAccuracy}); the report has the reference's keys.
 */
@Command(name = "vqa", mixinStandardHelpOptions = true,
    description = "VQA v2 accuracy as the official vqaEval.py: JSON {overall, perAnswerType, perQuestionType, "
        + "per_question} in percent on stdout.")
public final class ScoreVqaCommand implements Callable<Integer> {
  @Option(names = "--annotations", required = true, description = "VQA v2 annotation file ({\"annotations\": [...]}).")
  Path annotations;

  @Option(names = "--questions", required = true, description = "VQA v2 question file ({\"questions\": [...]}).")
  Path questions;

  @Option(names = "--results", required = true, description = "Results: [{\"question_id\", \"answer\"}], one per "
      + "annotated question.")
  Path results;

  @Override
  public Integer call() throws JsonProcessingException {
    Map<String, VqaAccuracy.Question> gt = VqaV2Annotations.read(annotations, questions);
    Map<String, String> answers = ResultFile.read(results, "question_id", gt.keySet(), e -> e.string("answer"));
    VqaAccuracy.Report report = VqaAccuracy.score(gt, answers);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("overall", report.overall());
    json.put("perAnswerType", report.perAnswerType());
    json.put("perQuestionType", report.perQuestionType());
    json.put("per_question", report.perQuestion());
    System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
    return Failure.OK;
  }
}
