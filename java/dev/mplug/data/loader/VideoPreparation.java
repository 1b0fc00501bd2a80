package dev.mplug.data.loader;

import dev.mplug.data.dataset.MediaRef;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.video.VideoFrames;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * The per-sample function of the video tasks: {@code frames} frames sampled uniformly through {@link VideoFrames},
 * each through the same image transform with the SAME random draws (one crop, one flip for the whole clip), then the
 * texts as {@link TaskPreparation} prepares them. The frames become the example's media, so the collator stacks a
 * batch to {@code [B, frames, 3, H, W]}.
 */
public final class VideoPreparation implements SampleFunction<Example<Mat>> {
  private final TaskPreparation<List<Mat>> texts;

  public VideoPreparation(ImageTransform transform, int frames, TextOptions options) {
    if (frames < 1) throw new IllegalArgumentException("frames must be >= 1, got " + frames);
    this.texts = new TaskPreparation<>((ref, rng) -> clip(ref, transform, frames, rng), options);
  }

  @Override
  public Example<Mat> apply(LoadedSample loaded, RandomGenerator rng) {
    Example<List<Mat>> e = texts.apply(loaded, rng);
    List<Mat> frames = new ArrayList<>();
    e.media().forEach(frames::addAll);
    return new Example<>(frames, e.text(), e.answers(), e.answerWeights(), e.label(), e.box(), e.id());
  }

  private static List<Mat> clip(MediaRef ref, ImageTransform transform, int n, RandomGenerator rng) {
    List<Mat> raw = switch (ref) {
      case MediaRef.File f -> VideoFrames.sample(f.path(), n);
      case MediaRef.Blob b -> VideoFrames.sample(b.bytes(), b.source(), n);
    };
    long seed = rng.nextLong();
    List<Mat> out = new ArrayList<>(n);
    try {
      for (Mat frame : raw) out.add(transform.apply(frame, new SplittableRandom(seed)));
    } finally {
      raw.forEach(Mat::close);
    }
    return out;
  }
}
