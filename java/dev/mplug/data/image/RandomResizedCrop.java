package dev.mplug.data.image;

import java.util.random.RandomGenerator;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * torchvision's RandomResizedCrop: a crop covering {@code scale} of the image area with aspect ratio (w/h) drawn
 * log-uniformly from {@code ratio}, resized (bicubic) to {@code size x size}. Ten tries, then the centre crop with the
 * ratio clamped into range, exactly as torchvision falls back.
 *
 * <p>OpenCV's bicubic does not low-pass when shrinking (PIL's does), so strong downscales alias a little more than in
 * the official pipeline.
 */
public record RandomResizedCrop(int size, double minScale, double maxScale, double minRatio, double maxRatio)
    implements ImageTransform {

  public RandomResizedCrop {
    if (size <= 0) throw new IllegalArgumentException("crop size must be > 0, got " + size);
    if (!(0 < minScale && minScale <= maxScale && maxScale <= 1)) {
      throw new IllegalArgumentException("scale range must satisfy 0 < min <= max <= 1, got " + minScale + ".."
          + maxScale);
    }
    if (!(0 < minRatio && minRatio <= maxRatio)) {
      throw new IllegalArgumentException("ratio range must satisfy 0 < min <= max, got " + minRatio + ".." + maxRatio);
    }
  }

  /** Scale (minScale..1) and the standard ratio 3/4..4/3. */
  public static RandomResizedCrop of(int size, double minScale) {
    return new RandomResizedCrop(size, minScale, 1.0, 3.0 / 4.0, 4.0 / 3.0);
  }

  @Override
  public Mat apply(Mat rgb, RandomGenerator rng) {
    Images.requireRgb(rgb, "RandomResizedCrop input");
    int[] r = region(rgb.cols(), rgb.rows(), rng);
    Mat out = new Mat();
    try (Rect rect = new Rect(r[0], r[1], r[2], r[3]); Mat crop = rgb.apply(rect); Size s = new Size(size, size)) {
      opencv_imgproc.resize(crop, out, s, 0, 0, opencv_imgproc.INTER_CUBIC);
    }
    return out;
  }

  /** The crop {x, y, w, h} for a {@code width x height} image. */
  public int[] region(int width, int height, RandomGenerator rng) {
    double area = (double) width * height;
    double logMin = Math.log(minRatio);
    double logMax = Math.log(maxRatio);
    for (int attempt = 0; attempt < 10; attempt++) {
      double targetArea = area * uniform(rng, minScale, maxScale);
      double aspect = Math.exp(uniform(rng, logMin, logMax));
      int w = (int) Math.round(Math.sqrt(targetArea * aspect));
      int h = (int) Math.round(Math.sqrt(targetArea / aspect));
      if (0 < w && w <= width && 0 < h && h <= height) {
        int y = rng.nextInt(height - h + 1);
        int x = rng.nextInt(width - w + 1);
        return new int[] {x, y, w, h};
      }
    }
    double inRatio = (double) width / height;
    int w = width;
    int h = height;
    if (inRatio < minRatio) {
      h = (int) Math.round(w / minRatio);
    } else if (inRatio > maxRatio) {
      w = (int) Math.round(h * maxRatio);
    }
    return new int[] {(width - w) / 2, (height - h) / 2, w, h};
  }

  private static double uniform(RandomGenerator rng, double lo, double hi) {
    return lo + (hi - lo) * rng.nextDouble();
  }
}
