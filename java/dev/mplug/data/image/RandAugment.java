package dev.mplug.data.image;

import static org.bytedeco.opencv.global.opencv_core.BORDER_CONSTANT;
import static org.bytedeco.opencv.global.opencv_core.CV_32F;
import static org.bytedeco.opencv.global.opencv_core.CV_64F;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;

import java.util.List;
import java.util.random.RandomGenerator;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.opencv.opencv_core.Point2f;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * RandAugment as the official ALBEF/BLIP/mPLUG {@code randaugment.py} runs it (the OpenCV version, not timm's):
 * draw {@code n} operations uniformly WITH replacement, apply each with probability 0.5 at level {@code m} of
 * {@value #MAX_LEVEL}. Magnitudes at level m:
 * <ul>
 *   <li>Brightness, Sharpness: enhancement factor {@code m/10 * 1.8 + 0.1} (1.36 at m = 7);</li>
 *   <li>ShearX/Y: shear {@code m/10 * 0.3} (0.21), TranslateX/Y: {@code m/10 * 10} PIXELS (7; the official constant
 *       is absolute, not a fraction of the size), Rotate: {@code m/10 * 30} degrees (21); each with a random sign;</li>
 *   <li>geometric ops fill uncovered pixels with grey (128, 128, 128) and interpolate bilinearly.</li>
 * </ul>
 * Random draws, in order: the n operations, then per operation the apply coin and (if it applies) the sign.
 */
public record RandAugment(int n, int m, List<Op> ops) implements ImageTransform {
  public static final int MAX_LEVEL = 10;
  private static final double FILL = 128;

  /** The ten operations of the pretraining recipe (spec §2). */
  public enum Op { IDENTITY, AUTO_CONTRAST, EQUALIZE, BRIGHTNESS, SHARPNESS, SHEAR_X, SHEAR_Y, TRANSLATE_X,
    TRANSLATE_Y, ROTATE }

  public RandAugment {
    if (n < 0) throw new IllegalArgumentException("RandAugment n must be >= 0, got " + n);
    if (m < 0 || m > MAX_LEVEL) throw new IllegalArgumentException("RandAugment m must be 0.." + MAX_LEVEL + ": " + m);
    ops = List.copyOf(ops);
    if (ops.isEmpty()) throw new IllegalArgumentException("RandAugment needs at least one operation");
  }

  /** RandAugment(n, m) over all ten operations, as mPLUG pretrains with (2, 7). */
  public static RandAugment of(int n, int m) {
    return new RandAugment(n, m, List.of(Op.values()));
  }

  @Override
  public Mat apply(Mat rgb, RandomGenerator rng) {
    Images.requireRgb(rgb, "RandAugment input");
    Op[] chosen = new Op[n];
    for (int i = 0; i < n; i++) chosen[i] = ops.get(rng.nextInt(ops.size()));
    Mat img = rgb.clone();
    for (Op op : chosen) {
      if (rng.nextDouble() > 0.5) continue;
      Mat next = apply(op, img, m, rng);
      img.close();
      img = next;
    }
    return img;
  }

  /** One operation at level {@code level}; signed magnitudes take their sign from {@code rng}. Returns a new Mat. */
  public static Mat apply(Op op, Mat img, int level, RandomGenerator rng) {
    double l = (double) level / MAX_LEVEL;
    return switch (op) {
      case IDENTITY -> img.clone();
      case AUTO_CONTRAST -> autoContrast(img);
      case EQUALIZE -> equalize(img);
      case BRIGHTNESS -> brightness(img, l * 1.8 + 0.1);
      case SHARPNESS -> sharpness(img, l * 1.8 + 0.1);
      case SHEAR_X -> affine(img, new double[] {1, signed(l * 0.3, rng), 0, 0, 1, 0});
      case SHEAR_Y -> affine(img, new double[] {1, 0, 0, signed(l * 0.3, rng), 1, 0});
      case TRANSLATE_X -> affine(img, new double[] {1, 0, -signed(l * 10, rng), 0, 1, 0});
      case TRANSLATE_Y -> affine(img, new double[] {1, 0, 0, 0, 1, -signed(l * 10, rng)});
      case ROTATE -> rotate(img, signed(l * 30, rng));
    };
  }

  private static double signed(double v, RandomGenerator rng) {
    return rng.nextBoolean() ? -v : v;
  }

  /** Per channel, stretch [min, max] to [0, 255] (PIL's ImageOps.autocontrast with cutoff 0). */
  static Mat autoContrast(Mat img) {
    byte[] table = new byte[256 * 3];
    try (MatVector channels = new MatVector()) {
      opencv_core.split(img, channels);
      for (int c = 0; c < 3; c++) {
        double[] lo = new double[1];
        double[] hi = new double[1];
        try (Mat channel = channels.get(c)) {
          opencv_core.minMaxLoc(channel, lo, hi, null, null, null);
        }
        double scale = hi[0] > lo[0] ? 255.0 / (hi[0] - lo[0]) : 1.0;
        double offset = hi[0] > lo[0] ? -lo[0] * scale : 0.0;
        for (int i = 0; i < 256; i++) table[3 * i + c] = saturateTruncate(i * scale + offset);
      }
    }
    return lut(img, table);
  }

  /** Per channel histogram equalisation with PIL's ImageOps.equalize rule (not OpenCV's equalizeHist). */
  static Mat equalize(Mat img) {
    byte[] table = new byte[256 * 3];
    try (MatVector channels = new MatVector(); Mat hist = new Mat(); Mat mask = new Mat()) {
      opencv_core.split(img, channels);
      for (int c = 0; c < 3; c++) {
        try (Mat channel = channels.get(c)) {
          opencv_imgproc.calcHist(channel, 1, new int[] {0}, mask, hist, 1, new int[] {256}, new float[] {0, 256});
        }
        float[] h = new float[256]; // calcHist counts in float32
        try (FloatPointer counts = new FloatPointer(hist.data())) {
          counts.get(h);
        }
        // step = (pixels outside the last non-empty bin) / 255; a one-colour channel stays as is
        long total = 0;
        long last = 0;
        for (float v : h) {
          if (v != 0) last = (long) v;
          total += (long) v;
        }
        long step = (total - last) / 255;
        long acc = step / 2;
        for (int i = 0; i < 256; i++) {
          table[3 * i + c] = step == 0 ? (byte) i : saturateTruncate((double) (acc / step));
          acc += (long) h[i];
        }
      }
    }
    return lut(img, table);
  }

  /** PIL ImageEnhance.Brightness as the official LUT: {@code clip(v * factor)}, truncated. */
  static Mat brightness(Mat img, double factor) {
    byte[] table = new byte[256 * 3];
    for (int i = 0; i < 256; i++) {
      byte v = saturateTruncate((float) i * (float) factor); // float32 arithmetic, as the official numpy table
      table[3 * i] = v;
      table[3 * i + 1] = v;
      table[3 * i + 2] = v;
    }
    return lut(img, table);
  }

  /**
   * PIL ImageEnhance.Sharpness: blend with the image smoothed by [[1,1,1],[1,5,1],[1,1,1]]/13, borders (1 pixel)
   * unchanged. The blend is rounded and saturated (the official float->uint8 cast truncates and wraps; this is the
   * only deliberate difference, at most one grey level).
   */
  static Mat sharpness(Mat img, double factor) {
    Mat out = img.clone();
    if (img.rows() < 3 || img.cols() < 3) return out;
    try (Mat kernel = new Mat(3, 3, CV_32F, new Scalar(1.0 / 13));
        Mat degenerate = new Mat();
        Mat blended = new Mat();
        Rect inner = new Rect(1, 1, img.cols() - 2, img.rows() - 2)) {
      kernel.ptr(1, 1).putFloat(5f / 13);
      opencv_imgproc.filter2D(img, degenerate, -1, kernel);
      opencv_core.addWeighted(img, factor, degenerate, 1 - factor, 0, blended, CV_8U);
      try (Mat src = blended.apply(inner); Mat dst = out.apply(inner)) {
        src.copyTo(dst);
      }
    }
    return out;
  }

  /** warpAffine with the forward 2x3 matrix {@code m} (row-major), grey fill, bilinear. */
  static Mat affine(Mat img, double[] m) {
    Mat out = new Mat();
    try (Mat matrix = new Mat(2, 3, CV_64F); DoublePointer p = new DoublePointer(matrix.data());
        Size size = new Size(img.cols(), img.rows()); Scalar fill = new Scalar(FILL, FILL, FILL, 0)) {
      p.put(m);
      opencv_imgproc.warpAffine(img, out, matrix, size, INTER_LINEAR, BORDER_CONSTANT, fill);
    }
    return out;
  }

  /** Rotation by {@code degrees} (counter-clockwise, as PIL) about the centre (W/2, H/2). */
  static Mat rotate(Mat img, double degrees) {
    Mat out = new Mat();
    try (Point2f centre = new Point2f(img.cols() / 2f, img.rows() / 2f);
        Mat matrix = opencv_imgproc.getRotationMatrix2D(centre, degrees, 1);
        Size size = new Size(img.cols(), img.rows()); Scalar fill = new Scalar(FILL, FILL, FILL, 0)) {
      opencv_imgproc.warpAffine(img, out, matrix, size, INTER_LINEAR, BORDER_CONSTANT, fill);
    }
    return out;
  }

  /** Applies a per-channel table ({@code table[3 * value + channel]}) with one LUT call. */
  private static Mat lut(Mat img, byte[] table) {
    Mat out = new Mat();
    try (Mat lut = new Mat(1, 256, CV_8UC3)) {
      lut.data().put(table);
      opencv_core.LUT(img, lut, out);
    }
    return out;
  }

  private static byte saturateTruncate(double v) {
    return (byte) (int) Math.max(0, Math.min(255, v));
  }
}
