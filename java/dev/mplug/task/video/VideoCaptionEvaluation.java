package dev.mplug.task.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.VideoCaptionSample;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.eval.caption.CaptionMetrics;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.caption.CaptionEvaluation;
import dev.mplug.task.caption.CaptionHead;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Captions the clips of a video caption file (VATEX's {@code [{"videoID", "enCap": [10 captions]}]}, or the shapes
 * world's {@code {"video", "caption": [..]}} lines; entries naming the same clip pool their captions) by beam search
 * and scores them with the coco-caption metrics against each clip's captions, as image captioning does. Results:
 * {@code [{"video_id", "caption"}]}, the clip as the file names it.
 */
final class VideoCaptionEvaluation {
  private VideoCaptionEvaluation() {}

  static TaskEvaluation evaluate(CaptionHead head, BertTokenizer tokenizer, FinetuneConfig.Eval set, int frames) {
    FinetuneConfig.checkEval(set);
    AnnotationDataset<VideoCaptionSample> dataset = AnnotationDataset.videoCaption(set.annotations(), set.root());
    Map<String, List<String>> references = new LinkedHashMap<>();
    Map<String, Integer> entryOf = new LinkedHashMap<>();
    for (int i = 0; i < dataset.size(); i++) {
      VideoCaptionSample s;
      try {
        s = dataset.get(i);
      } catch (BadSampleException e) {
        throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " entry " + i + ": "
            + e.reason(), e);
      }
      if (!references.containsKey(s.video()) && set.maxItems() > 0 && references.size() == set.maxItems()) continue;
      references.computeIfAbsent(s.video(), v -> new ArrayList<>()).addAll(s.captions());
      entryOf.putIfAbsent(s.video(), i);
    }
    if (references.isEmpty()) throw new IllegalArgumentException("eval.annotations: " + set.annotations()
        + " holds no videos");
    List<String> videos = List.copyOf(references.keySet());
    MPlug model = head.model();
    int res = model.config().vision().imageRes();
    boolean wasTraining = model.is_training();
    model.eval();
    List<Map<String, Object>> results = new ArrayList<>();
    Map<String, String> captions = new LinkedHashMap<>();
    try (NoGradGuard _ = new NoGradGuard()) {
      for (int start = 0; start < videos.size(); start += set.batchSize()) {
        List<String> chunk = videos.subList(start, Math.min(videos.size(), start + set.batchSize()));
        try (TensorScope _ = TensorScope.open()) {
          List<Integer> entries = chunk.stream().map(entryOf::get).toList();
          List<List<Hypothesis>> beams = head.generate(head.imageStates(VideoClips.load(dataset, chunk, entries,
              frames, res, set)), true);
          for (int i = 0; i < chunk.size(); i++) {
            String caption = head.caption(beams.get(i).get(0), tokenizer);
            captions.put(chunk.get(i), caption);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("video_id", chunk.get(i));
            row.put("caption", caption);
            results.add(row);
          }
        }
      }
    } finally {
      model.train(wasTraining);
    }
    Map<String, Double> corpus = CaptionMetrics.score(references, captions).corpus();
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (String name : CaptionEvaluation.METRICS) metrics.put(name, 100 * corpus.get(name));
    return new TaskEvaluation(metrics, results, CaptionMetrics.NOT_COMPUTED);
  }
}
