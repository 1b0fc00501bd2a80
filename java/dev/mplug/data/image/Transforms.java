package dev.mplug.data.image;

import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * The image pipelines of the official recipes (before normalisation, which {@link ImageBatch} does on the batch):
 * <ul>
 *   <li>{@link #pretrain}: RandomResizedCrop(scale 0.2-1, ratio 3/4-4/3, bicubic) -> horizontal flip (p 0.5) ->
 *       RandAugment(2, 7);</li>
 *   <li>{@link #train}: the same with scale 0.5-1 (fine-tuning: retrieval, VQA, captioning, NLVR2, SNLI-VE);</li>
 *   <li>{@link #eval}: bicubic resize to res x res (aspect ratio not kept, as the official test transform).</li>
 * </ul>
 */
public final class Transforms {
  private Transforms() {}

  public static ImageTransform pretrain(int res) {
    return augmented(res, 0.2, true);
  }

  public static ImageTransform train(int res) {
    return augmented(res, 0.5, true);
  }

  /**
   * RandomResizedCrop(scale {@code minScale}-1) -> horizontal flip (p 0.5, only if {@code flip}) -> RandAugment(2, 7).
   * Without the flip for data whose texts say "left" and "right" about the picture (the official VQA recipe flips
   * anyway).
   */
  public static ImageTransform augmented(int res, double minScale, boolean flip) {
    return flip
        ? ImageTransform.compose(RandomResizedCrop.of(res, minScale), horizontalFlip(0.5), RandAugment.of(2, 7))
        : ImageTransform.compose(RandomResizedCrop.of(res, minScale), RandAugment.of(2, 7));
  }

  public static ImageTransform eval(int res) {
    return resize(res, res);
  }

  /** Bicubic resize to {@code width x height}. */
  public static ImageTransform resize(int width, int height) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("resize target must be positive, got " + width + " x " + height);
    }
    return (rgb, rng) -> resize(rgb, width, height, opencv_imgproc.INTER_CUBIC);
  }

  /** Mirror left-right with probability {@code p}. */
  public static ImageTransform horizontalFlip(double p) {
    if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
    return (rgb, rng) -> rng.nextDouble() < p ? flip(rgb) : rgb.clone();
  }

  /** A left-right mirror image: pixel (x, y) moves to (W - 1 - x, y). */
  public static Mat flip(Mat rgb) {
    Mat out = new Mat();
    opencv_core.flip(rgb, out, 1);
    return out;
  }

  /** Resize with an OpenCV interpolation flag (INTER_CUBIC, INTER_LINEAR, ...). */
  public static Mat resize(Mat rgb, int width, int height, int interpolation) {
    Mat out = new Mat();
    try (Size size = new Size(width, height)) {
      opencv_imgproc.resize(rgb, out, size, 0, 0, interpolation);
    }
    return out;
  }
}
