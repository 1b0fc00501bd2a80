package dev.mplug.task.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.VideoQaSample;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.vqa.VqaHead;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Answers every question of a video QA file (the official MSRVTT-QA / MSVD-QA lines, or the shapes world's) by
 * ranking the answer list, in file order, {@code set.batchSize()} questions at a time. Results
 * {@code [{"question_id", "answer"}]}, the question id being the line's index as the official evaluation numbers
 * them; {@code accuracy}: the % of questions answered with exactly the reference string (official {@code cal_metric}).
 * Questions are prepared and answered by {@link VideoAnswering}.
 */
final class VideoQaEvaluation {
  static final List<String> METRICS = List.of("accuracy");

  private VideoQaEvaluation() {}

  static TaskEvaluation evaluate(VideoAnswering answering, FinetuneConfig.Eval set, int frames) {
    FinetuneConfig.checkEval(set);
    AnnotationDataset<VideoQaSample> dataset = AnnotationDataset.videoQa(set.annotations(), set.root());
    int n = set.maxItems() > 0 ? Math.min(set.maxItems(), dataset.size()) : dataset.size();
    if (n < 1) throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " holds no questions");
    List<VideoQaSample> samples = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      try {
        samples.add(dataset.get(i));
      } catch (BadSampleException e) {
        throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " entry " + i + ": "
            + e.reason(), e);
      }
    }
    MPlug model = answering.model();
    int res = model.config().vision().imageRes();
    boolean wasTraining = model.is_training();
    model.eval();
    List<Map<String, Object>> results = new ArrayList<>();
    int correct = 0;
    try (NoGradGuard _ = new NoGradGuard()) {
      for (int start = 0; start < n; start += set.batchSize()) {
        int b = Math.min(set.batchSize(), n - start);
        List<String> videos = new ArrayList<>(b);
        List<String> questions = new ArrayList<>(b);
        List<Integer> entries = new ArrayList<>(b);
        for (int i = start; i < start + b; i++) {
          videos.add(samples.get(i).video());
          questions.add(samples.get(i).question());
          entries.add(i);
        }
        try (TensorScope _ = TensorScope.open()) {
          TokenBatch q = answering.questions(questions);
          VqaHead.Ranking ranking = answering.rank(VideoClips.load(dataset, videos, entries, frames, res, set), q);
          for (int j = 0; j < b; j++) {
            String answer = answering.answer(ranking.best(j));
            if (answer.equals(samples.get(start + j).answer())) correct++;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("question_id", start + j);
            row.put("answer", answer);
            results.add(row);
          }
        }
      }
    } finally {
      model.train(wasTraining);
    }
    return new TaskEvaluation(Map.of(METRICS.get(0), 100.0 * correct / n), results);
  }
}
