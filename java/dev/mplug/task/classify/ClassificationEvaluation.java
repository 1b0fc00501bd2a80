package dev.mplug.task.classify;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.Nlvr2Sample;
import dev.mplug.data.dataset.Sample;
import dev.mplug.data.dataset.SnliVeSample;
import dev.mplug.data.dataset.Task;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Images;
import dev.mplug.data.image.Transforms;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * SNLI-VE and NLVR2 evaluation as ALBEF's: every entry of the file (up to {@code max_items}, in file order) with
 * its images resized to {@code R x R} (no augmentation, NLVR2's images in the file's order) and its sentence cleaned
 * with pre_caption, classified by the head; the prediction is the arg-max class.
 *
 * <p>Metric: {@code accuracy}, the percentage of entries whose prediction is the label. Results, one row per entry:
 * {@code {"index", "image"} (SNLI-VE) or "images" (NLVR2), "sentence", "prediction", "label"} with the labels as the
 * official files spell them ("entailment" ..., "True" / "False"). An unusable entry or image is an error naming the
 * file and line (or the image): a score over part of the file would not be the file's score.
 */
public final class ClassificationEvaluation {
  public static final List<String> METRICS = List.of("accuracy");

  private ClassificationEvaluation() {}

  /**
   * Evaluates {@code head}'s model (eval mode, no gradients; the model's mode is restored).
   *
   * @param maxWords words kept by pre_caption; maxTokens tokens kept after WordPiece (as in training)
   */
  public static TaskEvaluation evaluate(SentenceClassifier head, Task task, BertTokenizer tokenizer,
      FinetuneConfig.Eval set, int maxWords, int maxTokens) {
    FinetuneConfig.checkEval(set);
    AnnotationDataset<Sample> dataset = AnnotationDataset.read(task, set.annotations(), set.root());
    int n = set.maxItems() > 0 ? Math.min(set.maxItems(), dataset.size()) : dataset.size();
    if (n == 0) throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " holds no entries");
    List<Sample> samples = new ArrayList<>(n);
    for (int i = 0; i < n; i++) samples.add(sample(dataset, i));
    MPlug model = head.model();
    ImageTransform transform = Transforms.eval(model.config().vision().imageRes());
    List<Map<String, Object>> results = new ArrayList<>();
    int correct = 0;
    boolean wasTraining = model.is_training();
    model.eval();
    try (NoGradGuard _ = new NoGradGuard()) {
      for (int from = 0; from < n; from += set.batchSize()) {
        List<Sample> batch = samples.subList(from, Math.min(n, from + set.batchSize()));
        int[] predicted = predict(head, dataset, batch, transform, tokenizer, maxWords, maxTokens);
        for (int k = 0; k < batch.size(); k++) {
          Sample s = batch.get(k);
          int label = label(s);
          if (predicted[k] == label) correct++;
          results.add(row(from + k, s, head.classNames().get(predicted[k]), head.classNames().get(label)));
        }
      }
    } finally {
      model.train(wasTraining);
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put(METRICS.get(0), 100.0 * correct / n);
    return new TaskEvaluation(metrics, results);
  }

  /** The class id of a sample's label: SNLI-VE's official ids, NLVR2 False 0 / True 1. */
  static int label(Sample s) {
    return switch (s) {
      case SnliVeSample v -> v.label().classId();
      case Nlvr2Sample p -> p.label() ? 1 : 0;
      default -> throw new IllegalArgumentException("not an SNLI-VE or NLVR2 sample: " + s.task());
    };
  }

  private static String sentence(Sample s) {
    return s instanceof SnliVeSample v ? v.sentence() : ((Nlvr2Sample) s).sentence();
  }

  private static Sample sample(AnnotationDataset<Sample> dataset, int i) {
    try {
      return dataset.get(i);
    } catch (BadSampleException e) {
      throw new IllegalArgumentException("eval.annotations: " + e.getMessage(), e);
    }
  }

  private static int[] predict(SentenceClassifier head, AnnotationDataset<Sample> dataset, List<Sample> batch,
      ImageTransform transform, BertTokenizer tokenizer, int maxWords, int maxTokens) {
    RandomGenerator none = RandomGenerator.of("L64X128MixRandom");   // the eval transform draws nothing
    List<String> sentences = batch.stream().map(s -> TextCleaning.preCaption(sentence(s), maxWords)).toList();
    List<Mat> mats = new ArrayList<>();
    try (TensorScope _ = TensorScope.open()) {
      for (Sample s : batch) {
        for (String image : s.media()) {
          try (Mat decoded = Images.read(dataset.resolve(image))) {
            mats.add(transform.apply(decoded, none));
          } catch (BadSampleException e) {
            throw new IllegalArgumentException("eval image " + image + ": " + e.reason(), e);
          }
        }
      }
      Tensor images = ImageBatch.toTensor(mats);                                    // [B * k, 3, R, R]
      int perSample = batch.get(0).media().size();
      if (perSample > 1) {
        images = images.view(batch.size(), perSample, images.size(1), images.size(2), images.size(3));
      }
      TokenBatch tokens = tokenizer.encodeBatch(sentences, maxTokens, Padding.LONGEST);
      Tensor logits = head.logits(images, tokens.idsTensor(), tokens.maskTensor());   // [B, C]
      long[] best = Tensors.toLongs(logits.argmax(new LongOptional(1), false));
      int[] out = new int[best.length];
      for (int i = 0; i < out.length; i++) out[i] = (int) best[i];
      return out;
    } finally {
      mats.forEach(Mat::close);
    }
  }

  private static Map<String, Object> row(int index, Sample s, String prediction, String label) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("index", index);
    if (s instanceof SnliVeSample v) {
      r.put("image", v.image());
    } else {
      r.put("images", s.media());
    }
    r.put("sentence", sentence(s));
    r.put("prediction", prediction);
    r.put("label", label);
    return r;
  }
}
