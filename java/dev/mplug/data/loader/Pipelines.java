package dev.mplug.data.loader;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.Task;
import dev.mplug.data.image.GroundingTransforms;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Images;
import dev.mplug.data.image.Transforms;
import dev.mplug.data.text.BertTokenizer;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Ready-made loaders of every task: samples from an annotation file (or shards) are decoded ({@link Images#decode}),
 * augmented with the loader's per-sample generator, their texts cleaned, then collated by {@link TaskCollator} into
 * {@link Batch}es of CLIP-normalised images ({@link ImageBatch}), token ids and masks and the cleaned texts. What
 * each task's batches hold:
 * <ul>
 *   <li>pretrain: {@code images [B,3,R,R]}, {@code text_ids}/{@code text_mask [B,T]} (one caption drawn per epoch),
 *       {@code texts} (that caption, cleaned), {@code ids} (image paths); augmentation RandomResizedCrop(0.2-1) +
 *       flip + RandAugment(2, 7);</li>
 *   <li>caption, retrieval, VQA, NLVR2 ({@code [B,2,3,R,R]}), SNLI-VE: the same with RandomResizedCrop(0.5-1), plus
 *       answers ({@code answer_ids}, {@code answer_mask}, {@code answer_weights}, {@code answer_counts}) for VQA and
 *       {@code labels} for retrieval (image index), NLVR2 and SNLI-VE; retrieval-eval has images and labels only;</li>
 *   <li>grounding: {@code images [B,3,R,R]} letterboxed, {@code boxes [B,4]} (x, y, w, h) in pixels of that canvas
 *       ({@link GroundingPreparation});</li>
 *   <li>video-caption, video-qa: {@code images [B,F,3,R,R]} ({@link VideoPreparation}).</li>
 * </ul>
 * Without augmentation every image is resized to {@code R x R} (grounding: letterboxed). Unusable samples (missing,
 * empty, truncated or oversized media, malformed entries) go through the loader's report, replacement and count.
 *
 * <pre>{@code
 * ShapesWorld.ensure(root, ShapesWorld.Config.of(2000, 0, 0, 128));
 * BertTokenizer tok = BertTokenizer.load(root.resolve(SynthFiles.VOCAB));
 * try (var loader = Pipelines.pretrain(root.resolve(SynthFiles.PRETRAIN), root, tok,
 *     PipelineOptions.training(96), LoaderConfig.of(32)); var epoch = loader.epoch(0)) {
 *   while (epoch.hasNext()) try (Batch b = epoch.next()) { step(b.tensor(Batch.IMAGES), b.tensor(Batch.TEXT_IDS)); }
 * }
 * }</pre>
 */
public final class Pipelines {
  private Pipelines() {}

  /** The pretraining loader over a {@code pretrain.json} whose image paths are relative to {@code root}. */
  public static DataLoader<Example<Mat>> pretrain(Path annotations, Path root, BertTokenizer tokenizer,
      PipelineOptions options, LoaderConfig config) {
    return loader(Task.PRETRAIN, annotations(Task.PRETRAIN, annotations, root), tokenizer, options, config);
  }

  /** The samples of an annotation file in {@code task}'s format, media relative to {@code root}. */
  public static SampleStore annotations(Task task, Path file, Path root) {
    return SampleStore.of(AnnotationDataset.read(task, file, root));
  }

  /** {@code task}'s loader, reporting bad samples on standard error. */
  public static DataLoader<Example<Mat>> loader(Task task, SampleStore store, BertTokenizer tokenizer,
      PipelineOptions options, LoaderConfig config) {
    return new DataLoader<>(store, preparation(task, options), collator(tokenizer, options), config);
  }

  /** {@code task}'s loader over {@code store} (an annotation file or {@code SampleStore.of(shardSet)}). */
  public static DataLoader<Example<Mat>> loader(Task task, SampleStore store, BertTokenizer tokenizer,
      PipelineOptions options, LoaderConfig config, Consumer<String> badSampleReporter) {
    return new DataLoader<>(store, preparation(task, options), collator(tokenizer, options), config,
        badSampleReporter);
  }

  /**
   * The per-sample function of {@code task}. A sample of another task (shards or a file of the wrong kind) is an
   * error of the set-up, not a bad sample: it ends the epoch with an {@link IllegalArgumentException}.
   */
  public static SampleFunction<Example<Mat>> preparation(Task task, PipelineOptions options) {
    SampleFunction<Example<Mat>> f = switch (task) {
      case GROUNDING -> new GroundingPreparation(options.resolution(), options.augment(),
          GroundingTransforms.Options.DEFAULT, options.maxPixels());
      case VIDEO_CAPTION, VIDEO_QA -> new VideoPreparation(imageTransform(task, options), options.videoFrames(),
          options.text());
      default -> new TaskPreparation<>(images(imageTransform(task, options), options.maxPixels()), options.text());
    };
    return (loaded, rng) -> {
      if (loaded.sample().task() != task) {
        throw new IllegalArgumentException("the " + task + " pipeline got a " + loaded.sample().task()
            + " sample from " + loaded.source());
      }
      return f.apply(loaded, rng);
    };
  }

  /**
   * The image transform of {@code task} (not grounding, whose transform moves the box): with augmentation
   * RandomResizedCrop (scale 0.2-1 for pretraining, 0.5-1 otherwise) -> flip -> RandAugment(2, 7), else the bicubic
   * resize to {@code R x R}.
   */
  public static ImageTransform imageTransform(Task task, PipelineOptions options) {
    if (task == Task.GROUNDING) {
      throw new IllegalArgumentException("grounding transforms image and box together: use GroundingPreparation");
    }
    int res = options.resolution();
    if (!options.augment()) return Transforms.eval(res);
    return Transforms.augmented(res, task == Task.PRETRAIN ? 0.2 : 0.5, options.flip());
  }

  /** Decode (under the pixel limit), then {@code transform}. */
  public static MediaFunction<Mat> images(ImageTransform transform, long maxPixels) {
    return (ref, rng) -> {
      try (Mat rgb = Images.decode(ref.bytes(), ref.source(), maxPixels)) {
        return transform.apply(rgb, rng);
      }
    };
  }

  /** Images to one normalised tensor, texts and answers tokenised to the options' maximum lengths. */
  public static TaskCollator<Mat> collator(BertTokenizer tokenizer, PipelineOptions options) {
    return new TaskCollator<>(tokenizer, options.maxTextLength(), options.maxAnswerLength(), ImageBatch::toTensor);
  }
}
