package dev.mplug.task.retrieval;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.RetrievalEvalSample;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Images;
import dev.mplug.data.image.Transforms;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.eval.RetrievalRecall;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Retrieval evaluation as the official {@code retrieval_img_mplug.py} runs it, on a file in the official test format
 * ({@code [{"image", "caption": [..]}]}, one entry per image; text t is the t-th caption of the file): every image
 * (plain resize) and every caption (pre_caption, then WordPiece) is encoded once, in batches, and kept as features;
 * {@link RetrievalRanking} ranks them in chunks.
 *
 * <p>Metrics (percent): {@code r_mean} (the mean of the six recalls, the headline), {@code txt_r1/5/10} (image ->
 * text: an image is a hit when any of its captions ranks within K) and {@code img_r1/5/10} (text -> image). Results:
 * one row per image {@code {"image_id": i, "image": path, "texts": [the 10 best text indices]}}, then one per text
 * {@code {"text_id": t, "images": [the 10 best image indices]}}, best first, indices as numbered above.
 */
public final class RetrievalEvaluation {
  /** The metric names, headline first. */
  public static final List<String> METRICS =
      List.of("r_mean", "txt_r1", "txt_r5", "txt_r10", "img_r1", "img_r5", "img_r10");

  private RetrievalEvaluation() {}

  /**
   * @param maxTokens caption tokens kept after WordPiece; maxWords words kept by pre_caption
   */
  public static TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set, int maxTokens,
      int maxWords, RetrievalRanking.Options options) {
    AnnotationDataset<RetrievalEvalSample> dataset = AnnotationDataset.retrievalEval(set.annotations(), set.root());
    int n = set.maxItems() > 0 ? Math.min(set.maxItems(), dataset.size()) : dataset.size();
    if (n < 1) throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " holds no images");
    CaptionedItems<RetrievalEvalSample> items = CaptionedItems.read(n, i -> sample(dataset, i, set),
        RetrievalEvalSample::captions, maxWords, set.annotations());
    List<RetrievalEvalSample> samples = items.items();

    boolean wasTraining = model.is_training();
    model.eval();
    RetrievalRanking.Result ranking;
    try (NoGradGuard guard = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      RetrievalHead head = new RetrievalHead(model);
      RetrievalHead.Images images = encodeImages(head, dataset, samples, set.batchSize());
      RetrievalHead.Texts texts = head.texts(tokenizer.encodeBatch(items.captions(), maxTokens, Padding.LONGEST),
          set.batchSize());
      ranking = RetrievalRanking.rank(head, images, texts, items.gold(), options);
    } finally {
      model.train(wasTraining);
    }
    return new TaskEvaluation(metrics(ranking.recall()),
        results(ranking, samples.stream().map(RetrievalEvalSample::image).toList(), "image"));
  }

  private static RetrievalEvalSample sample(AnnotationDataset<RetrievalEvalSample> dataset, int i,
      FinetuneConfig.Eval set) {
    try {
      return dataset.get(i);
    } catch (BadSampleException e) {
      throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " entry " + i + ": "
          + e.reason(), e);
    }
  }

  /** The figures by name, in {@link #METRICS} order. */
  public static Map<String, Double> metrics(RetrievalRecall.Result r) {
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("r_mean", r.mean());
    out.put("txt_r1", r.textR1());
    out.put("txt_r5", r.textR5());
    out.put("txt_r10", r.textR10());
    out.put("img_r1", r.imageR1());
    out.put("img_r5", r.imageR5());
    out.put("img_r10", r.imageR10());
    return out;
  }

  /**
   * The result rows: one per image {@code {"<kind>_id": i, "<kind>": media[i], "texts": [..]}}, then one per text
   * {@code {"text_id": t, "<kind>s": [..]}} ({@code kind} "image", or "video" for text-video retrieval).
   */
  public static List<Map<String, Object>> results(RetrievalRanking.Result ranking, List<String> media, String kind) {
    List<Map<String, Object>> out = new ArrayList<>();
    int[][] imageTop = ranking.images().top();
    for (int i = 0; i < imageTop.length; i++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put(kind + "_id", i);
      row.put(kind, media.get(i));
      row.put("texts", Arrays.stream(imageTop[i]).boxed().toList());
      out.add(row);
    }
    int[][] textTop = ranking.texts().top();
    for (int t = 0; t < textTop.length; t++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("text_id", t);
      row.put(kind + "s", Arrays.stream(textTop[t]).boxed().toList());
      out.add(row);
    }
    return out;
  }

  /** Every image through the eval transform and the vision side, {@code batch} at a time, into one index. */
  private static RetrievalHead.Images encodeImages(RetrievalHead head, AnnotationDataset<RetrievalEvalSample> dataset,
      List<RetrievalEvalSample> samples, int batch) {
    ImageTransform transform = Transforms.eval(head.model().config().vision().imageRes());
    RandomGenerator none = RandomGenerator.of("L64X128MixRandom");   // the eval transform draws nothing
    return head.images(samples.size(), batch, (start, count) -> {
      List<Mat> mats = new ArrayList<>();
      try {
        for (int i = start; i < start + count; i++) {
          try (Mat decoded = Images.read(dataset.resolve(samples.get(i).image()))) {
            mats.add(transform.apply(decoded, none));
          } catch (BadSampleException e) {
            throw new IllegalArgumentException("eval image " + samples.get(i).image() + ": " + e.reason(), e);
          }
        }
        return ImageBatch.toTensor(mats);
      } finally {
        mats.forEach(Mat::close);
      }
    });
  }
}
