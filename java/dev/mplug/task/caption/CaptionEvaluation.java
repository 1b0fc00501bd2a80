package dev.mplug.task.caption;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.CaptionSample;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Images;
import dev.mplug.data.image.Transforms;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.eval.caption.CaptionMetrics;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.torch.TensorScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Captioning evaluation as the official COCO runs do it: one beam-search caption per image (eval transform, eval
 * mode, no gradients), results {@code [{"image_id", "caption"}]}, scored against the image's reference captions with
 * the coco-caption metrics ({@link CaptionMetrics}: PTB tokenisation, BLEU-1..4, ROUGE-L, CIDEr-D), reported x 100 as
 * the paper does (CIDEr 141.0 for mPLUG-large); METEOR and SPICE are listed in the notes as not computed. The references of an image are all captions of the file's entries
 * with its {@code image_id}, so a test-style file (one entry per image with a caption list) and a train-style file
 * (one entry per caption) both work.
 */
public final class CaptionEvaluation {
  /** The metric names, headline first. */
  public static final List<String> METRICS = List.of("CIDEr", "Bleu_4", "Bleu_3", "Bleu_2", "Bleu_1", "ROUGE_L");

  /** The images of an evaluation file, first appearance order, with their references. */
  record Image(String imageId, String image, List<String> references) {}

  private CaptionEvaluation() {}

  /** Captions and scores the first {@code set.maxItems()} images (0 = all) of {@code set}; restores the mode. */
  public static TaskEvaluation run(CaptionHead head, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    AnnotationDataset<CaptionSample> dataset = AnnotationDataset.caption(set.annotations(), set.root());
    List<Image> images = images(dataset, set.maxItems());
    MPlug model = head.model();
    boolean wasTraining = model.is_training();
    model.eval();
    List<Map<String, Object>> results = new ArrayList<>();
    Map<String, String> captions = new LinkedHashMap<>();
    try (NoGradGuard _ = new NoGradGuard()) {
      ImageTransform transform = Transforms.eval(model.config().vision().imageRes());
      for (int start = 0; start < images.size(); start += set.batchSize()) {
        List<Image> chunk = images.subList(start, Math.min(images.size(), start + set.batchSize()));
        try (TensorScope _ = TensorScope.open()) {
          List<List<Hypothesis>> beams = head.generate(head.imageStates(load(chunk, dataset, transform)), true);
          for (int i = 0; i < chunk.size(); i++) {
            String caption = head.caption(beams.get(i).get(0), tokenizer);
            captions.put(chunk.get(i).imageId(), caption);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("image_id", resultId(chunk.get(i).imageId()));
            row.put("caption", caption);
            results.add(row);
          }
        }
      }
    } finally {
      model.train(wasTraining);
    }
    Map<String, List<String>> references = new LinkedHashMap<>();
    for (Image im : images) references.put(im.imageId(), im.references());
    Map<String, Double> corpus = CaptionMetrics.score(references, captions).corpus();
    Map<String, Double> metrics = new LinkedHashMap<>();
    for (String name : METRICS) metrics.put(name, 100 * corpus.get(name));
    return new TaskEvaluation(metrics, results, CaptionMetrics.NOT_COMPUTED);
  }

  /** The distinct images of the file by {@code image_id}, in first-appearance order, at most {@code max} (0 = all). */
  static List<Image> images(AnnotationDataset<CaptionSample> dataset, int max) {
    Map<String, Image> byId = new LinkedHashMap<>();
    for (int i = 0; i < dataset.size(); i++) {
      CaptionSample s = dataset.get(i);   // a malformed entry is an error naming the file and entry
      Image known = byId.get(s.imageId());
      if (known == null) {
        if (max > 0 && byId.size() == max) continue;
        byId.put(s.imageId(), new Image(s.imageId(), s.image(), new ArrayList<>(s.captions())));
      } else {
        if (!known.image().equals(s.image())) {
          throw new IllegalArgumentException(dataset.source(i) + ": image_id " + s.imageId() + " names "
              + s.image() + " but an earlier entry names " + known.image());
        }
        known.references().addAll(s.captions());
      }
    }
    if (byId.isEmpty()) throw new IllegalArgumentException(dataset.file() + ": no captioning entries");
    return byId.values().stream().map(im -> new Image(im.imageId(), im.image(), List.copyOf(im.references())))
        .toList();
  }

  /** Eval-transformed, normalised images [n, 3, R, R]. */
  private static Tensor load(List<Image> chunk, AnnotationDataset<CaptionSample> dataset, ImageTransform transform) {
    RandomGenerator unused = RandomGenerator.of("L64X128MixRandom");   // the eval transform draws nothing
    List<Mat> mats = new ArrayList<>();
    try {
      for (Image im : chunk) {
        Path file = dataset.resolve(im.image());
        try (Mat decoded = Images.read(file)) {
          mats.add(transform.apply(decoded, unused));
        }
      }
      return ImageBatch.toTensor(mats);
    } finally {
      mats.forEach(Mat::close);
    }
  }

  /**
   * COCO's results carry integer image ids: an id written as an integer is written back as a number; any other (a
   * file name, digits with leading zeros) stays the string it was.
   */
  static Object resultId(String imageId) {
    return imageId.matches("0|[1-9][0-9]{0,17}") ? (Object) Long.parseLong(imageId) : imageId;
  }
}
