package dev.mplug.task.grounding;

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
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The grounding training stream: referring expressions ({@code [{"image", "text", "bbox", "ref_id"}]}) through the
 * data loader, image and box letterboxed together onto the {@code R x R} canvas (with the official grounding
 * augmentations when {@code data.augment} is on), the boxes turned into the decoder's targets; endless over epochs and
 * resumable.
 */
public final class GroundingData {
  private GroundingData() {}

  /** The stream (close it to stop the loader's workers). */
  public static Batches<GroundingBatch> open(FinetuneConfig.Data data, int canvas, BertTokenizer tokenizer,
      long seed, int rank, int worldSize) {
    PipelineOptions options = new PipelineOptions(canvas, data.augment(), data.augment(), data.maxTokens(),
        PipelineOptions.DEFAULT_MAX_ANSWER_LENGTH, PipelineOptions.DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS,
        TextOptions.training());
    LoaderConfig config = LoaderBatches.trainingConfig(data.batchSize(), data.workers(), data.maxBadFraction(), seed,
        rank, worldSize);
    return new LoaderBatches<>(
        Pipelines.loader(Task.GROUNDING, Pipelines.annotations(Task.GROUNDING, data.annotations(), data.root()),
            tokenizer, options, config),
        b -> new GroundingBatch(b.tensor(Batch.IMAGES).clone(), b.tensor(Batch.TEXT_IDS).clone(),
            b.tensor(Batch.TEXT_MASK).clone(), targets(b.tensor(Batch.BOXES), canvas)),
        "data.annotations: " + data.annotations() + " (batch " + data.batchSize() + ")");
  }

  /** Boxes (x, y, w, h) in canvas pixels [B, 4] -> (cx, cy, w, h) / canvas [B, 4] (a new tensor). */
  public static Tensor targets(Tensor boxes, int canvas) {
    Tensor wh = boxes.narrow(1, 2, 2);                                            // [B, 2]
    Tensor centre = boxes.narrow(1, 0, 2).add(wh.div(new Scalar(2.0)));          // [B, 2]
    return torch.cat(new TensorVector(centre, wh), 1).div(new Scalar(canvas));    // [B, 4]
  }
}
