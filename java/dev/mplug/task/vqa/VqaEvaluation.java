package dev.mplug.task.vqa;

import dev.mplug.data.dataset.Task;
import dev.mplug.data.loader.Batch;
import dev.mplug.data.loader.DataLoader;
import dev.mplug.data.loader.Example;
import dev.mplug.data.loader.LoadedSample;
import dev.mplug.data.loader.LoaderConfig;
import dev.mplug.data.loader.Pipelines;
import dev.mplug.data.loader.SampleStore;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.eval.vqa.AnswerNormalization;
import dev.mplug.eval.vqa.VqaAccuracy;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Answers every question of a VQA file in the official mPLUG format (with its answers: the shapes world's
 * {@code vqa_val.json}) and scores them: results {@code [{"question_id", "answer"}]} as the official evaluation writes
 * them, "vqa_accuracy" (the VQA v2 accuracy of the reference vqaEval, see {@link VqaReferences} for how this format's
 * answers are read) and "exact_match" (% of questions whose answer equals the most common reference answer after the
 * VQA normalisation). Answers come from the beam search with the key/value cache, or from ranking
 * {@code vqa.answer_list} when one is given.
 */
final class VqaEvaluation {
  /** The metric names, headline first. */
  static final List<String> METRICS = List.of("vqa_accuracy", "exact_match");

  private VqaEvaluation() {}

  static TaskEvaluation evaluate(VqaHead head, BertTokenizer tokenizer, FinetuneConfig.Eval set,
      FinetuneConfig.Data data, VqaSettings settings) {
    FinetuneConfig.checkEval(set);
    Map<String, VqaAccuracy.Question> references = VqaReferences.read(set.annotations());
    SampleStore store = firstItems(Pipelines.annotations(Task.VQA, set.annotations(), set.root()), set.maxItems());
    MPlug model = head.model();
    int res = model.config().vision().imageRes();
    Vocabulary vocab = tokenizer.vocabulary();
    GenerationConfig g = settings.generation(model.config().generation(), vocab.clsId(), vocab.sepId());
    LoaderConfig config = LoaderConfig.of(set.batchSize()).withShuffle(false, 0)
        .withWorkers(data.workers(), Math.max(2, data.workers() * 2)).withBadSamples(0, 0);
    List<Map<String, Object>> results = new ArrayList<>();
    Map<String, String> answers = new LinkedHashMap<>();
    boolean wasTraining = model.is_training();
    model.eval();
    try (NoGradGuard _ = new NoGradGuard();
        AnswerList list = settings.answerList() == null ? null
            : AnswerList.read(settings.answerList(), tokenizer, model.config().text().maxPositions());
        DataLoader<Example<Mat>> loader = Pipelines.loader(Task.VQA, store, tokenizer,
            VqaData.options(data, res, false), config);
        DataLoader<Example<Mat>>.Epoch epoch = loader.epoch(0)) {
      while (epoch.hasNext()) {
        try (Batch b = epoch.next(); TensorScope _ = TensorScope.open()) {
          VqaHead.QuestionStates q = head.encode(b.tensor(Batch.IMAGES), b.tensor(Batch.TEXT_IDS),
              b.tensor(Batch.TEXT_MASK));
          List<String> out = list == null ? VqaHead.answers(head.generate(q, g, true), tokenizer)
              : ranked(list, head.rank(q, list.ids(), list.mask(), settings.answerListK()));
          List<String> ids = b.strings(Batch.IDS);
          for (int i = 0; i < out.size(); i++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("question_id", Long.parseLong(ids.get(i)));
            r.put("answer", out.get(i));
            results.add(r);
            answers.put(ids.get(i), out.get(i));
          }
        }
      }
    } finally {
      model.train(wasTraining);
    }
    return new TaskEvaluation(score(references, answers), results);
  }

  /** vqa_accuracy and exact_match of {@code answers} (question id -> answer) against their references. */
  static Map<String, Double> score(Map<String, VqaAccuracy.Question> references, Map<String, String> answers) {
    if (answers.isEmpty()) throw new IllegalArgumentException("eval.annotations: no questions to answer");
    Map<String, VqaAccuracy.Question> gt = new LinkedHashMap<>();
    int exact = 0;
    for (Map.Entry<String, String> a : answers.entrySet()) {
      VqaAccuracy.Question q = references.get(a.getKey());
      if (q == null) throw new IllegalArgumentException("question " + a.getKey() + " has no reference answers");
      gt.put(a.getKey(), q);
      String expected = AnswerNormalization.normalize(VqaReferences.mostCommon(q.answers()));
      if (AnswerNormalization.normalize(AnswerNormalization.clean(a.getValue())).equals(expected)) exact++;
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put(METRICS.get(0), VqaAccuracy.score(gt, answers).overall());
    metrics.put(METRICS.get(1), 100.0 * exact / answers.size());
    return metrics;
  }

  private static List<String> ranked(AnswerList list, VqaHead.Ranking ranking) {
    List<String> out = new ArrayList<>(ranking.candidates().length);
    for (int q = 0; q < ranking.candidates().length; q++) out.add(list.answer(ranking.best(q)));
    return out;
  }

  /** The first {@code n} samples of {@code store} (all when n is 0). */
  private static SampleStore firstItems(SampleStore store, int n) {
    if (n == 0 || n >= store.size()) return store;
    return new SampleStore() {
      @Override
      public int size() {
        return n;
      }

      @Override
      public LoadedSample load(int index) {
        return store.load(index);
      }

      @Override
      public String source(int index) {
        return store.source(index);
      }
    };
  }
}
