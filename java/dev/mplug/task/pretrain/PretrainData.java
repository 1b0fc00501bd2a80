package dev.mplug.task.pretrain;

import dev.mplug.data.image.Images;
import dev.mplug.data.loader.Batch;
import dev.mplug.data.loader.DataLoader;
import dev.mplug.data.loader.Example;
import dev.mplug.data.loader.LoaderConfig;
import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.data.loader.PipelineOptions;
import dev.mplug.data.loader.Pipelines;
import dev.mplug.data.loader.TextOptions;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.task.LoaderBatches;
import dev.mplug.train.Batches;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * The pretraining input stream: a pretraining JSON ({image, caption}) through the data loader (workers decode the
 * images, augment them as the official recipe does, clean and tokenise the captions; the cleaned caption strings
 * travel beside their ids), endless over epochs and resumable at any (epoch, offset).
 */
public final class PretrainData implements Batches<PretrainBatch> {
  private final LoaderBatches<PretrainBatch> batches;

  public PretrainData(PretrainConfig.Data data, int imageRes, BertTokenizer tokenizer, long seed, int rank,
      int worldSize) {
    PipelineOptions options = new PipelineOptions(imageRes, data.augment(), data.augment(), data.maxTokens(),
        PipelineOptions.DEFAULT_MAX_ANSWER_LENGTH, PipelineOptions.DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS,
        new TextOptions(data.maxWords(), 30, false, false, true, false));
    LoaderConfig config = LoaderBatches.trainingConfig(data.batchSize(), data.workers(), data.maxBadFraction(), seed,
        rank, worldSize);
    // copies owned by the caller's scope; the batch (and its worker-side memory) is released at once
    this.batches = new LoaderBatches<>(Pipelines.pretrain(data.annotations(), data.root(), tokenizer, options, config),
        b -> new PretrainBatch(b.tensor(Batch.IMAGES).clone(), b.tensor(Batch.TEXT_IDS).clone(),
            b.tensor(Batch.TEXT_MASK).clone(), b.strings(Batch.TEXTS)),
        "data.annotations: " + data.annotations() + " (batch " + data.batchSize() + ")");
  }

  public DataLoader<Example<Mat>> loader() {
    return batches.loader();
  }

  @Override
  public PretrainBatch next() {
    return batches.next();
  }

  @Override
  public LoaderPosition position() {
    return batches.position();
  }

  @Override
  public void seek(LoaderPosition position) {
    batches.seek(position);
  }

  @Override
  public void close() {
    batches.close();
  }
}
