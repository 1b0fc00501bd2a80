package dev.mplug.task.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.VideoQaSample;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.vqa.AnswerList;
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
 * Questions are cleaned with pre_question keeping 50 words (the official test setting).
 */
final class VideoQaEvaluation {
  static final List<String> METRICS = List.of("accuracy");

  /** Words kept of a test question (the official videoqa_dataset's test split). */
  private static final int TEST_QUESTION_WORDS = 50;

  private VideoQaEvaluation() {}

  static TaskEvaluation evaluate(VqaHead head, BertTokenizer tokenizer, FinetuneConfig.Eval set,
      FinetuneConfig.Data data, int frames, AnswerList list, int k) {
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
    MPlug model = head.model();
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
          questions.add(TextCleaning.preQuestion(samples.get(i).question(), TEST_QUESTION_WORDS));
          entries.add(i);
        }
        try (TensorScope _ = TensorScope.open()) {
          TokenBatch q = tokenizer.encodeBatch(questions, data.maxTokens(), Padding.LONGEST);
          VqaHead.QuestionStates states = head.encode(VideoClips.load(dataset, videos, entries, frames, res, set),
              q.idsTensor(), q.maskTensor());
          VqaHead.Ranking ranking = head.rank(states, list.ids(), list.mask(), k);
          for (int j = 0; j < b; j++) {
            String answer = list.answer(ranking.best(j));
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
