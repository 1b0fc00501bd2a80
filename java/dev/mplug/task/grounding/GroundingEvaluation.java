package dev.mplug.task.grounding;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.image.BoxedImage;
import dev.mplug.data.image.GroundingTransforms;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.Images;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.eval.grounding.GroundingAccuracy;
import dev.mplug.eval.grounding.GroundingAnnotations;
import dev.mplug.eval.grounding.NormalizedBox;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Grounding evaluation: every referring expression of the file (up to {@code max_items}) is letterboxed as in
 * training without augmentation, decoded greedily, and its canvas box taken back to the image ({@link CanvasPlacement}).
 * Results are {@code [{"ref_id", "bbox": [x1, y1, x2, y2]}]} normalised over the image, the format
 * {@code mplug score grounding} reads; they are scored by {@link GroundingAccuracy} against
 * {@link GroundingAnnotations} of the same file, so the figures equal that command's on the written results.
 *
 * <p>Metrics: {@code accuracy}, the percentage with IoU >= 0.5 (the headline), {@code mean_iou}, the mean IoU
 * in percent (the official validation's miou x 100), and {@code centre_hits}, the percentage of predictions (clamped
 * to the image, as the accuracy scores them) whose centre lies in the true box: not an official metric, but it tells
 * a model that finds where the figure is and misjudges its size from one that does not look at where it is, which
 * accuracy cannot tell when both are near 0.
 */
public final class GroundingEvaluation {
  public static final List<String> METRICS = List.of("accuracy", "mean_iou", "centre_hits");

  private GroundingEvaluation() {}

  /**
   * Evaluates {@code head}'s model on {@code set} (eval mode, no gradients; the model's mode is restored).
   *
   * @param maxTokens expression tokens kept, [CLS] and [SEP] included (as in training)
   */
  public static TaskEvaluation evaluate(GroundingHead head, BertTokenizer tokenizer, FinetuneConfig.Eval set,
      int maxTokens) {
    FinetuneConfig.checkEval(set);
    AnnotationDataset<GroundingSample> dataset = AnnotationDataset.grounding(set.annotations(), set.root());
    int n = set.maxItems() > 0 ? Math.min(set.maxItems(), dataset.size()) : dataset.size();
    if (n == 0) throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " holds no expressions");
    MPlug model = head.model();
    int canvas = model.config().vision().imageRes();
    List<Map<String, Object>> results = new ArrayList<>();
    Map<String, NormalizedBox> predictions = new LinkedHashMap<>();
    boolean wasTraining = model.is_training();
    model.eval();
    try (NoGradGuard _ = new NoGradGuard()) {
      for (int from = 0; from < n; from += set.batchSize()) {
        int to = Math.min(n, from + set.batchSize());
        List<GroundingSample> samples = new ArrayList<>();
        for (int i = from; i < to; i++) samples.add(sample(dataset, i));
        List<CanvasPlacement> placements = new ArrayList<>();
        float[] boxes = decode(head, tokenizer, dataset, samples, canvas, maxTokens, placements);
        for (int k = 0; k < samples.size(); k++) {
          NormalizedBox box = placements.get(k).toImage(boxes[4 * k], boxes[4 * k + 1], boxes[4 * k + 2],
              boxes[4 * k + 3]);
          long refId = samples.get(k).refId();
          if (predictions.put(Long.toString(refId), box) != null) {
            throw new IllegalArgumentException(dataset.source(from + k) + ": ref_id " + refId + " appears twice");
          }
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("ref_id", refId);
          r.put("bbox", List.of(box.x1(), box.y1(), box.x2(), box.y2()));
          results.add(r);
        }
      }
    } finally {
      model.train(wasTraining);
    }
    Map<String, NormalizedBox> truth = new LinkedHashMap<>(GroundingAnnotations.read(set.annotations(), set.root()));
    truth.keySet().retainAll(predictions.keySet());
    GroundingAccuracy.Report report = GroundingAccuracy.score(truth, predictions);
    double meanIou = report.perItem().values().stream().mapToDouble(Float::doubleValue).average().orElseThrow();
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("accuracy", 100 * report.accuracy());
    metrics.put("mean_iou", 100 * meanIou);
    metrics.put("centre_hits", 100.0 * truth.keySet().stream()
        .filter(id -> predictions.get(id).clampedToUnit().centreInside(truth.get(id))).count() / truth.size());
    return new TaskEvaluation(metrics, results);
  }

  private static GroundingSample sample(AnnotationDataset<GroundingSample> dataset, int i) {
    try {
      return dataset.get(i);
    } catch (BadSampleException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** An unreadable image of an evaluation file is the user's error, not a sample to skip. */
  private static Mat image(AnnotationDataset<GroundingSample> dataset, GroundingSample s) {
    try {
      return Images.read(dataset.resolve(s.image()));
    } catch (BadSampleException e) {
      throw new IllegalArgumentException("eval.annotations: " + dataset.file() + ": image " + e.getMessage(), e);
    }
  }

  /** Letterboxes and decodes one batch; returns the canvas boxes (cx, cy, w, h) row by row, placements filled. */
  private static float[] decode(GroundingHead head, BertTokenizer tokenizer, AnnotationDataset<GroundingSample> dataset,
      List<GroundingSample> samples, int canvas, int maxTokens, List<CanvasPlacement> placements) {
    List<Mat> canvases = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    try (TensorScope _ = TensorScope.open()) {
      for (GroundingSample s : samples) {
        try (Mat rgb = image(dataset, s)) {
          // the box only travels along; the prediction does not see it
          BoxedImage in = new BoxedImage(rgb, s.box().cropped(0, 0, rgb.cols(), rgb.rows()),
              s.text().toLowerCase(Locale.ROOT));
          BoxedImage out = GroundingTransforms.eval(in, canvas);
          canvases.add(out.image());
          texts.add(out.text());
          placements.add(CanvasPlacement.of(out, rgb.cols(), rgb.rows()));
        }
      }
      TokenBatch t = tokenizer.encodeBatch(texts, maxTokens, Padding.LONGEST);
      GroundingHead.Prediction p = head.decode(ImageBatch.toTensor(canvases), t.idsTensor(), t.maskTensor(), true);
      return Tensors.toFloats(p.boxes());                                                   // [B * 4]
    } finally {
      canvases.forEach(Mat::close);
    }
  }
}
