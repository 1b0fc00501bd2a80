package dev.mplug.task.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.VideoCaptionSample;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.eval.RetrievalRecall;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.retrieval.CaptionedItems;
import dev.mplug.task.retrieval.RetrievalEvaluation;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.retrieval.RetrievalRanking;
import dev.mplug.torch.TensorScope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Text-video retrieval evaluation as the official {@code retrieval_vid_mplug.py}, on a file with one entry per clip:
 * the official MSRVTT test lines {@code {"clip_name", "caption"}} (one caption each) or {@code {"video", "caption":
 * [..]}} (the shapes world; text t is the t-th caption of the file). Every clip and every caption (pre_caption, then
 * WordPiece) is encoded once; {@link RetrievalRanking} ranks them with the video score (ITM logit + ITC similarity).
 *
 * <p>Metrics (percent): {@code r_mean} (the mean of the six recalls, the headline), {@code txt_r1/5/10} (video ->
 * text: a hit when any caption of the clip ranks within K), {@code vid_r1/5/10} (text -> video). Results: one row per
 * clip {@code {"video_id": i, "video": path, "texts": [the 10 best text indices]}}, then one per text
 * {@code {"text_id": t, "videos": [the 10 best clip indices]}}, best first.
 */
final class VideoRetrievalEvaluation {
  /** The metric names, headline first (the official video names). */
  static final List<String> METRICS = List.of("r_mean", "txt_r1", "txt_r5", "txt_r10", "vid_r1", "vid_r5", "vid_r10");

  private VideoRetrievalEvaluation() {}

  static TaskEvaluation evaluate(RetrievalHead head, BertTokenizer tokenizer, FinetuneConfig.Eval set,
      FinetuneConfig.Data data, int frames, RetrievalRanking.Options options) {
    FinetuneConfig.checkEval(set);
    AnnotationDataset<VideoCaptionSample> dataset = AnnotationDataset.videoCaption(set.annotations(), set.root());
    int n = set.maxItems() > 0 ? Math.min(set.maxItems(), dataset.size()) : dataset.size();
    if (n < 1) throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " holds no videos");
    CaptionedItems<VideoCaptionSample> items = CaptionedItems.read(n, i -> sample(dataset, i, set),
        VideoCaptionSample::captions, data.maxWords(), set.annotations());
    List<String> videos = items.items().stream().map(VideoCaptionSample::video).toList();
    MPlug model = head.model();
    boolean wasTraining = model.is_training();
    model.eval();
    RetrievalRanking.Result ranking;
    try (NoGradGuard guard = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      int res = model.config().vision().imageRes();
      RetrievalHead.Images index = head.images(n, set.batchSize(), (start, count) -> VideoClips.load(dataset,
          videos.subList(start, start + count), IntStream.range(start, start + count).boxed().toList(), frames, res,
          set));
      RetrievalHead.Texts texts = head.texts(tokenizer.encodeBatch(items.captions(), data.maxTokens(),
          Padding.LONGEST), set.batchSize());
      ranking = RetrievalRanking.rank(head, index, texts, items.gold(), options);
    } finally {
      model.train(wasTraining);
    }
    return new TaskEvaluation(metrics(ranking.recall()), RetrievalEvaluation.results(ranking, videos, "video"));
  }

  private static VideoCaptionSample sample(AnnotationDataset<VideoCaptionSample> dataset, int i,
      FinetuneConfig.Eval set) {
    try {
      return dataset.get(i);
    } catch (BadSampleException e) {
      throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " entry " + i + ": "
          + e.reason(), e);
    }
  }

  /** The figures by name, in {@link #METRICS} order: image-text retrieval's, text -> video named "vid_". */
  static Map<String, Double> metrics(RetrievalRecall.Result r) {
    Map<String, Double> out = new LinkedHashMap<>();
    RetrievalEvaluation.metrics(r).forEach((k, v) -> out.put(k.replace("img_", "vid_"), v));
    return out;
  }
}
