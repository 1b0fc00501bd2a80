package dev.mplug.task.retrieval;

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
 * The retrieval training stream: an ALBEF-format file ({image, caption, image_id}, one entry per caption) through the
 * data loader (RandomResizedCrop(0.5-1) + flip + RandAugment when {@code data.augment}, cleaned and tokenised
 * captions, the image index as the batch's labels), endless over epochs and resumable.
 */
public final class RetrievalData {
  private RetrievalData() {}

  /** The stream (close it to stop the loader's workers). */
  public static Batches<RetrievalBatch> open(FinetuneConfig.Data data, int imageRes, BertTokenizer tokenizer,
      long seed, int rank, int worldSize) {
    PipelineOptions options = new PipelineOptions(imageRes, data.augment(), data.augment(), data.maxTokens(),
        PipelineOptions.DEFAULT_MAX_ANSWER_LENGTH, PipelineOptions.DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS,
        new TextOptions(data.maxWords(), 30, false, false, true, false));
    LoaderConfig config = LoaderBatches.trainingConfig(data.batchSize(), data.workers(), data.maxBadFraction(), seed,
        rank, worldSize);
    // copies owned by the caller's scope; the loader's batch is released as soon as this returns
    return new LoaderBatches<>(Pipelines.loader(Task.RETRIEVAL,
        Pipelines.annotations(Task.RETRIEVAL, data.annotations(), data.root()), tokenizer, options, config),
        b -> new RetrievalBatch(b.tensor(Batch.IMAGES).clone(), b.tensor(Batch.TEXT_IDS).clone(),
            b.tensor(Batch.TEXT_MASK).clone(), b.tensor(Batch.LABELS).clone()),
        "data.annotations: " + data.annotations() + " (batch " + data.batchSize() + ")");
  }
}
