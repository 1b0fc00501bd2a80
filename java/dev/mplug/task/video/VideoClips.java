package dev.mplug.task.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Transforms;
import dev.mplug.data.loader.PipelineOptions;
import dev.mplug.data.video.VideoFrames;
import dev.mplug.task.FinetuneConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * Clips as the video evaluations (and the inference API) read them: {@code frames} frames sampled uniformly from
 * each clip ({@link VideoFrames}: Motion-JPEG AVI or a frame folder), each resized to R x R (no augmentation) and
 * CLIP-normalised. An unreadable clip of an evaluation file stops the evaluation with one line naming the file, the
 * entry and the reason (an {@code .mp4}: the command that converts it).
 */
public final class VideoClips {
  private VideoClips() {}

  /** Clips {@code videos} (paths relative to the dataset root; entry indices for errors) as [n, F, 3, R, R]. */
  static Tensor load(AnnotationDataset<?> dataset, List<String> videos, List<Integer> entries, int frames, int res,
      FinetuneConfig.Eval set) {
    return batch(videos.size(), frames, res, i -> {
      try {
        return VideoFrames.sample(dataset.resolve(videos.get(i)), frames);
      } catch (BadSampleException e) {
        throw new IllegalArgumentException("eval.annotations: " + set.annotations() + " entry " + entries.get(i)
            + ": video " + e.source() + ": " + e.reason(), e);
      }
    });
  }

  /**
   * {@code n} clips as one batch [n, F, 3, R, R] (a tensor of the caller's scope): clip i's {@code frames} decoded
   * RGB frames are {@code sampled.apply(i)}, closed here once resized.
   */
  public static Tensor batch(int n, int frames, int res, IntFunction<List<Mat>> sampled) {
    ImageTransform transform = Transforms.eval(res);
    RandomGenerator none = RandomGenerator.of("L64X128MixRandom");   // the eval transform draws nothing
    List<Mat> all = new ArrayList<>(n * frames);
    try {
      for (int i = 0; i < n; i++) {
        List<Mat> raw = sampled.apply(i);
        try {
          if (raw.size() != frames) {
            throw new IllegalStateException("clip " + i + " gave " + raw.size() + " frames, not " + frames);
          }
          for (Mat m : raw) all.add(transform.apply(m, none));
        } finally {
          raw.forEach(Mat::close);
        }
      }
      Tensor flat = ImageBatch.toTensor(all);                                          // [n F, 3, R, R]
      return flat.view(n, frames, 3, res, res);                                        // [n, F, 3, R, R]
    } finally {
      all.forEach(Mat::close);
    }
  }

  /** The frames setting of a video task: {@code video.frames}, default 8. */
  static int frames(FinetuneConfig config) {
    int f = config.file().getVideo().hasFrames() ? config.file().getVideo().getFrames()
        : PipelineOptions.DEFAULT_VIDEO_FRAMES;
    if (f < 1 || f > 64) throw new IllegalArgumentException("video.frames must be 1..64, got " + f);
    return f;
  }
}
