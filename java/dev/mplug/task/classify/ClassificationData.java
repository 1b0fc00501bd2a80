package dev.mplug.task.classify;

import dev.mplug.data.dataset.Task;
import dev.mplug.data.image.Images;
import dev.mplug.data.loader.Batch;
import dev.mplug.data.loader.LoaderConfig;
import dev.mplug.data.loader.PipelineOptions;
import dev.mplug.data.loader.Pipelines;
import dev.mplug.data.loader.TextOptions;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.LoaderBatches;
import dev.mplug.train.Batches;

/**
 * The SNLI-VE and NLVR2 data: their ALBEF-format files ({@code ve_*.json}: image, sentence, label;
 * {@code nlvr_*.json}: images [2], sentence, label) through the data loader. Sentences are cleaned with pre_caption
 * ({@code data.max_words}) and tokenised to {@code data.max_tokens}; images take the fine-tuning augmentation when
 * {@code data.augment}, and in NLVR2 training the two images trade places half the time with "left" and "right"
 * swapped in the sentence (ALBEF's and mPLUG's nlvr_dataset).
 */
public final class ClassificationData {
  private ClassificationData() {}

  /** The endless, resumable training stream (close it to stop the loader's workers). */
  public static Batches<ClassificationBatch> open(Task task, FinetuneConfig.Data data, int imageRes,
      BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    LoaderConfig config = LoaderBatches.trainingConfig(data.batchSize(), data.workers(), data.maxBadFraction(), seed,
        rank, worldSize);
    // copies owned by the caller's scope; the loader's batch is released as soon as this returns
    return new LoaderBatches<>(Pipelines.loader(task, Pipelines.annotations(task, data.annotations(), data.root()),
        tokenizer, options(data, imageRes, data.augment(), true), config),
        b -> new ClassificationBatch(b.tensor(Batch.IMAGES).clone(), b.tensor(Batch.TEXT_IDS).clone(),
            b.tensor(Batch.TEXT_MASK).clone(), b.tensor(Batch.LABELS).clone()),
        "data.annotations: " + data.annotations() + " (batch " + data.batchSize() + ")");
  }

  /** The pipeline options: training ({@code swap}: NLVR2's image swap) or, without augment and swap, evaluation. */
  static PipelineOptions options(FinetuneConfig.Data data, int imageRes, boolean augment, boolean swap) {
    return new PipelineOptions(imageRes, augment, augment, data.maxTokens(), PipelineOptions.DEFAULT_MAX_ANSWER_LENGTH,
        PipelineOptions.DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS,
        new TextOptions(data.maxWords(), data.maxWords(), false, false, false, swap));
  }
}
