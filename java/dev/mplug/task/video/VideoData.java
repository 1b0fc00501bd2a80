package dev.mplug.task.video;

import dev.mplug.data.dataset.Task;
import dev.mplug.data.image.Images;
import dev.mplug.data.loader.Batch;
import dev.mplug.data.loader.DataLoader;
import dev.mplug.data.loader.Example;
import dev.mplug.data.loader.LoaderConfig;
import dev.mplug.data.loader.PipelineOptions;
import dev.mplug.data.loader.Pipelines;
import dev.mplug.data.loader.SampleFunction;
import dev.mplug.data.loader.TextOptions;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.LoaderBatches;
import dev.mplug.task.retrieval.RetrievalBatch;
import dev.mplug.task.vqa.VqaBatch;
import dev.mplug.task.vqa.VqaData;
import dev.mplug.torch.Tensors;
import dev.mplug.train.Batches;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * The training streams of the video tasks: a video caption file ({@code {"video" | "clip_name" | "videoID",
 * "caption" | "enCap"}}) or a video QA file ({@code {"video" | "video_id", "question", "answer"}}) through the data
 * loader, {@code video.frames} frames per clip ({@code VideoPreparation}: one augmentation draw per clip), batches of
 * clips [B, F, 3, R, R] in the image tasks' batch types. No flips, whatever {@code data.augment} says: a mirrored clip
 * moves the other way, which its captions and answers ("moves to the left") would contradict.
 */
final class VideoData {
  private VideoData() {}

  /**
   * Text-video retrieval pairs (one caption of each clip per epoch); the batch's labels number its distinct clips, so
   * two captions of one clip are each other's ITC positives and never ITM negatives.
   */
  static Batches<RetrievalBatch> retrieval(FinetuneConfig.Data data, int res, int frames, BertTokenizer tokenizer,
      long seed, int rank, int worldSize) {
    return stream(Task.VIDEO_CAPTION, data, res, frames, tokenizer, Function.identity(), seed, rank, worldSize,
        b -> new RetrievalBatch(b.tensor(Batch.IMAGES).clone(), b.tensor(Batch.TEXT_IDS).clone(),
            b.tensor(Batch.TEXT_MASK).clone(), clipNumbers(b.strings(Batch.IDS))));
  }

  /** Video QA: each question with its one answer (weight 1), the answer + "[SEP]" as the VQA training reads it. */
  static Batches<VqaBatch> questions(FinetuneConfig.Data data, int res, int frames, BertTokenizer tokenizer,
      long seed, int rank, int worldSize) {
    return stream(Task.VIDEO_QA, data, res, frames, tokenizer, VqaData::answersWithEos, seed, rank, worldSize,
        b -> new VqaBatch(b.tensor(Batch.IMAGES).clone(), b.tensor(Batch.TEXT_IDS).clone(),
            b.tensor(Batch.TEXT_MASK).clone(), b.tensor(Batch.ANSWER_IDS).clone(), b.tensor(Batch.ANSWER_MASK).clone(),
            b.tensor(Batch.ANSWER_COUNTS).clone(), b.tensor(Batch.ANSWER_WEIGHTS).clone()));
  }

  /** Video captions: the loader's batches (clips, cleaned captions, video names) for the captioning converter. */
  static <B> Batches<B> captions(FinetuneConfig.Data data, int res, int frames, BertTokenizer tokenizer, long seed,
      int rank, int worldSize, Function<Batch, B> convert) {
    return stream(Task.VIDEO_CAPTION, data, res, frames, tokenizer, Function.identity(), seed, rank, worldSize,
        convert);
  }

  private static <B> Batches<B> stream(Task task, FinetuneConfig.Data data, int res, int frames,
      BertTokenizer tokenizer, Function<SampleFunction<Example<Mat>>, SampleFunction<Example<Mat>>> wrap, long seed,
      int rank, int worldSize, Function<Batch, B> convert) {
    PipelineOptions options = new PipelineOptions(res, data.augment(), false, data.maxTokens(),
        data.maxAnswerTokens(), frames, Images.DEFAULT_MAX_PIXELS,
        new TextOptions(data.maxWords(), data.maxWords(), false, false, true, false));
    LoaderConfig config = LoaderBatches.trainingConfig(data.batchSize(), data.workers(), data.maxBadFraction(), seed,
        rank, worldSize);
    DataLoader<Example<Mat>> loader = new DataLoader<>(Pipelines.annotations(task, data.annotations(), data.root()),
        wrap.apply(Pipelines.preparation(task, options)), Pipelines.collator(tokenizer, options), config);
    // copies owned by the caller's scope; the loader's batch is released as soon as the conversion returns
    return new LoaderBatches<>(loader, convert, "data.annotations: " + data.annotations() + " (batch "
        + data.batchSize() + ")");
  }

  /** int64 [B]: clip k of the batch gets the number of its first appearance in the batch. */
  static Tensor clipNumbers(List<String> videos) {
    Map<String, Integer> first = new HashMap<>();
    long[] ids = new long[videos.size()];
    for (int i = 0; i < ids.length; i++) ids[i] = first.computeIfAbsent(videos.get(i), v -> first.size());
    return Tensors.longs(ids, ids.length);
  }
}
