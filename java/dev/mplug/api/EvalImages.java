package dev.mplug.api;

import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Transforms;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * Images as the evaluations of captioning, VQA and retrieval read them: decoded to RGB, bicubic resize to the model's
 * {@code R x R} ({@link Transforms#eval}), CLIP-normalised into one batch [B, 3, R, R].
 */
final class EvalImages {
  private static final RandomGenerator UNUSED = RandomGenerator.of("L64X128MixRandom");   // eval draws nothing

  private EvalImages() {}

  /** The batch of {@code images} (a tensor of the caller's scope); the decoded pixels are freed here. */
  static Tensor batch(List<ImageInput> images, int res, long maxPixels) {
    ImageTransform transform = Transforms.eval(res);
    List<Mat> mats = new ArrayList<>(images.size());
    try {
      for (ImageInput image : images) {
        try (Mat rgb = image.decode(maxPixels)) {
          mats.add(transform.apply(rgb, UNUSED));
        }
      }
      return ImageBatch.toTensor(mats);                                                  // [B, 3, R, R]
    } finally {
      mats.forEach(Mat::close);
    }
  }
}
