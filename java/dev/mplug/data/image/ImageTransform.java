package dev.mplug.data.image;

import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * One step of an image pipeline: RGB {@code CV_8UC3} in, a NEW RGB Mat out (owned by the caller), all randomness
 * drawn from {@code rng} so that a seeded generator reproduces the same bytes. The input is neither modified nor
 * closed.
 */
@FunctionalInterface
public interface ImageTransform {
  Mat apply(Mat rgb, RandomGenerator rng);

  /** This step, then {@code next}; the intermediate image is released as soon as {@code next} has run. */
  default ImageTransform andThen(ImageTransform next) {
    return (rgb, rng) -> {
      try (Mat mid = apply(rgb, rng)) {
        return next.apply(mid, rng);
      }
    };
  }

  /** The steps in order (an empty list is a copy). */
  static ImageTransform compose(ImageTransform... steps) {
    if (steps.length == 0) return (rgb, rng) -> rgb.clone();
    ImageTransform t = steps[0];
    for (int i = 1; i < steps.length; i++) t = t.andThen(steps[i]);
    return t;
  }
}
