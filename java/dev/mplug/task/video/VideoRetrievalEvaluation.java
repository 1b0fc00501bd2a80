package dev.mplug.task.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.VideoCaptionSample;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.eval.RetrievalRecall;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.retrieval.RetrievalRanking;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

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
    List<String> videos = new ArrayList<>();
    List<String> captions = new ArrayList<>();
    List<int[]> textsOfVideo = new ArrayList<>();
    List<Integer> videoOfText = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      VideoCaptionSample s = sample(dataset, i, set);
      videos.add(s.video());
      int[] mine = new int[s.captions().size()];
      for (int c = 0; c < mine.length; c++) {
        mine[c] = captions.size();
        captions.add(TextCleaning.preCaption(s.captions().get(c), data.maxWords()));
        videoOfText.add(i);
      }
      textsOfVideo.add(mine);
    }
    RetrievalRanking.Gold gold =
        new RetrievalRanking.Gold(textsOfVideo, videoOfText.stream().mapToInt(Integer::intValue).toArray());
    MPlug model = head.model();
    boolean wasTraining = model.is_training();
    model.eval();
    RetrievalRanking.Result ranking;
    try (NoGradGuard guard = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      RetrievalHead.Images index = encodeVideos(head, dataset, videos, frames, set);
      RetrievalHead.Texts texts = head.texts(tokenizer.encodeBatch(captions, data.maxTokens(), Padding.LONGEST),
          set.batchSize());
      ranking = RetrievalRanking.rank(head, index, texts, gold, options);
    } finally {
      model.train(wasTraining);
    }
    return new TaskEvaluation(metrics(ranking.recall()), results(ranking, videos));
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

  /** The figures by name, in {@link #METRICS} order. */
  static Map<String, Double> metrics(RetrievalRecall.Result r) {
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("r_mean", r.mean());
    out.put("txt_r1", r.textR1());
    out.put("txt_r5", r.textR5());
    out.put("txt_r10", r.textR10());
    out.put("vid_r1", r.imageR1());
    out.put("vid_r5", r.imageR5());
    out.put("vid_r10", r.imageR10());
    return out;
  }

  private static List<Map<String, Object>> results(RetrievalRanking.Result ranking, List<String> videos) {
    List<Map<String, Object>> out = new ArrayList<>();
    int[][] videoTop = ranking.images().top();
    for (int i = 0; i < videoTop.length; i++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("video_id", i);
      row.put("video", videos.get(i));
      row.put("texts", Arrays.stream(videoTop[i]).boxed().toList());
      out.add(row);
    }
    int[][] textTop = ranking.texts().top();
    for (int t = 0; t < textTop.length; t++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("text_id", t);
      row.put("videos", Arrays.stream(textTop[t]).boxed().toList());
      out.add(row);
    }
    return out;
  }

  /** Every clip through the vision side, {@code set.batchSize()} clips at a time, into one index. */
  private static RetrievalHead.Images encodeVideos(RetrievalHead head, AnnotationDataset<VideoCaptionSample> dataset,
      List<String> videos, int frames, FinetuneConfig.Eval set) {
    int res = head.model().config().vision().imageRes();
    Tensor embeds = null;
    Tensor features = null;
    int n = videos.size();
    for (int start = 0; start < n; start += set.batchSize()) {
      int b = Math.min(set.batchSize(), n - start);
      try (TensorScope scope = TensorScope.open()) {
        List<Integer> entries = new ArrayList<>();
        for (int i = start; i < start + b; i++) entries.add(i);
        RetrievalHead.Images part = head.images(VideoClips.load(dataset, videos.subList(start, start + b), entries,
            frames, res, set));
        if (embeds == null) {
          embeds = scope.keep(torch.empty(n, part.embeds().size(1), part.embeds().size(2)));   // [N, F Nv, H]
          features = scope.keep(torch.empty(n, part.features().size(1)));                       // [N, E]
        }
        embeds.narrow(0, start, b).copy_(part.embeds());
        features.narrow(0, start, b).copy_(part.features());
      }
    }
    return new RetrievalHead.Images(embeds, features);
  }
}
