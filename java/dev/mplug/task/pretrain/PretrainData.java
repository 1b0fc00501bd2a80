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
import dev.mplug.train.Batches;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * The pretraining input stream: a pretraining JSON ({image, caption}) through the data loader (workers decode the
 * images, augment them as the official recipe does, clean and tokenise the captions; the cleaned caption strings
 * travel beside their ids), endless over epochs and resumable at any (epoch, offset).
 */
public final class PretrainData implements Batches<PretrainBatch> {
  private final DataLoader<Example<Mat>> loader;
  private DataLoader<Example<Mat>>.Epoch current;
  private int epoch;

  public PretrainData(PretrainConfig.Data data, int imageRes, BertTokenizer tokenizer, long seed, int rank,
      int worldSize) {
    PipelineOptions options = new PipelineOptions(imageRes, data.augment(), data.augment(), data.maxTokens(),
        PipelineOptions.DEFAULT_MAX_ANSWER_LENGTH, PipelineOptions.DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS,
        new TextOptions(data.maxWords(), 30, false, false, true, false));
    LoaderConfig config = LoaderConfig.of(data.batchSize()).withShuffle(true, seed).withRank(rank, worldSize)
        .withDropLast(true).withWorkers(data.workers(), Math.max(2, data.workers() * 2))
        .withBadSamples(data.maxBadFraction(), 100);
    this.loader = Pipelines.pretrain(data.annotations(), data.root(), tokenizer, options, config);
    if (loader.batchesPerEpoch() == 0) {
      throw new IllegalArgumentException("data.annotations: " + data.annotations() + " holds "
          + loader.samplesPerEpoch() + " samples, fewer than one batch of " + data.batchSize() + " on this rank");
    }
  }

  public DataLoader<Example<Mat>> loader() {
    return loader;
  }

  @Override
  public PretrainBatch next() {
    while (current == null || !current.hasNext()) {
      if (current != null) {
        current.close();
        epoch++;
      }
      current = loader.epoch(epoch);
    }
    try (Batch b = current.next()) {
      // copies owned by the caller's scope; the batch (and its worker-side memory) is released at once
      Tensor images = b.tensor(Batch.IMAGES).clone();
      Tensor ids = b.tensor(Batch.TEXT_IDS).clone();
      Tensor mask = b.tensor(Batch.TEXT_MASK).clone();
      return new PretrainBatch(images, ids, mask, b.strings(Batch.TEXTS));
    }
  }

  @Override
  public LoaderPosition position() {
    return current == null ? LoaderPosition.start(epoch) : current.position();
  }

  @Override
  public void seek(LoaderPosition position) {
    if (current != null) current.close();
    epoch = position.epoch();
    current = loader.resume(position);
  }

  @Override
  public void close() {
    if (current != null) current.close();
    loader.close();
  }
}
