package dev.mplug.data.image;

import dev.mplug.data.Box;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;

/**
 * The visual-grounding augmentations of the official recipe (TransVG's, as mPLUG's {@code vg_transforms.py} uses
 * them), each moving the box with the image:
 * <ol>
 *   <li>random resize of the long side to one of {@code size - k * (size / 20)}, k = 0..6 ({@code scale}); or, with
 *       probability 0.5 when {@code crop} is on and the expression has no direction word (left, right, top, bottom,
 *       middle), resize the short side to 400/500/600, take a random 384..600 crop, then the random resize;</li>
 *   <li>colour jitter (brightness, contrast, saturation each 0.6..1.4, in random order) with probability 0.8;</li>
 *   <li>horizontal flip with probability 0.5: box {@code x -> W - x}, and "left" and "right" swap in the text;</li>
 *   <li>letterbox padding to {@code size x size}, placed at random when {@code translate} is on.</li>
 * </ol>
 * Decisions where the official code is off: the crop must contain the whole box (the official test compares the box's
 * x with the crop's top row); left/right are swapped as whole words (the official substring replace turns "bright"
 * into "bleft"). Gaussian blur (off in the released config) is not implemented.
 *
 * <p>Each step returns a sample with a NEW image; the caller owns and closes it.
 */
public final class GroundingTransforms {
  private static final String[] DIRECTION_WORDS = {"left", "right", "top", "bottom", "middle"};
  private static final Pattern LEFT_RIGHT = Pattern.compile("\\b(left|right)\\b");

  /** Which augmentations the training transform uses (the released RefCOCO config turns all three on). */
  public record Options(boolean scale, boolean crop, boolean translate) {
    public static final Options DEFAULT = new Options(true, true, true);
  }

  private GroundingTransforms() {}

  /** The evaluation transform: long side to {@code size}, centred padding. */
  public static BoxedImage eval(BoxedImage s, int size) {
    return Letterbox.fit(s, size);
  }

  /** The training transform (class comment); all randomness from {@code rng}. */
  public static BoxedImage train(BoxedImage s, int size, Options options, RandomGenerator rng) {
    int[] scales = scales(size, options.scale());
    double cropProbability = options.crop() ? 0.5 : 0.0;
    BoxedImage x;
    if (!hasDirectionWord(s.text()) && rng.nextDouble() < cropProbability) {
      x = randomResize(s, new int[] {400, 500, 600}, false, rng);
      x = replace(x, randomSizeCrop(x, 384, 600, 20, rng));
      x = replace(x, randomResize(x, scales, true, rng));
    } else {
      x = randomResize(s, scales, true, rng);
    }
    x = replace(x, colorJitter(x, 0.4, 0.4, 0.4, rng));
    x = replace(x, horizontalFlip(x, rng));
    return replace(x, Letterbox.pad(x, size, options.translate(), rng));
  }

  /** The long-side sizes of the random resize: {@code size - k * (size / 20)}, k = 0..6, or just {@code size}. */
  static int[] scales(int size, boolean scale) {
    if (!scale) return new int[] {size};
    int[] s = new int[7];
    for (int k = 0; k < 7; k++) s[k] = size - (size / 20) * k;
    return s;
  }

  /** Resize the long (or short) side to one of {@code sizes}, chosen uniformly. */
  public static BoxedImage randomResize(BoxedImage s, int[] sizes, boolean longSide, RandomGenerator rng) {
    return Letterbox.resizeTo(s, sizes[rng.nextInt(sizes.length)], longSide);
  }

  /**
   * Up to {@code maxTry} random crops of {@code minSize..maxSize} per side (bounded by the image); the first one that
   * contains the whole box is taken, otherwise the image is kept as is.
   */
  public static BoxedImage randomSizeCrop(BoxedImage s, int minSize, int maxSize, int maxTry,
      RandomGenerator rng) {
    int width = s.image().cols();
    int height = s.image().rows();
    int maxW = Math.min(width, maxSize);
    int maxH = Math.min(height, maxSize);
    if (minSize <= maxW && minSize <= maxH) {
      Box b = s.box();
      for (int t = 0; t < maxTry; t++) {
        int w = minSize + rng.nextInt(maxW - minSize + 1);
        int h = minSize + rng.nextInt(maxH - minSize + 1);
        int top = rng.nextInt(height - h + 1);
        int left = rng.nextInt(width - w + 1);
        if (b.x1() >= left && b.y1() >= top && b.x2() <= left + w && b.y2() <= top + h) {
          try (Rect r = new Rect(left, top, w, h); Mat view = s.image().apply(r)) {
            return s.withImage(view.clone(), b.cropped(left, top, w, h));
          }
        }
      }
    }
    return s.withImage(s.image().clone(), s.box());
  }

  /**
   * With probability 0.8: brightness, contrast and saturation, each with a factor uniform in {@code 1 +- amount}, in a
   * random order (PIL ImageEnhance semantics: brightness scales, contrast blends with the mean grey level,
   * saturation blends with the grey image).
   */
  public static BoxedImage colorJitter(BoxedImage s, double brightness, double contrast, double saturation,
      RandomGenerator rng) {
    Mat img = s.image().clone();
    if (rng.nextDouble() < 0.8) {
      int[] order = {0, 1, 2};
      for (int i = 2; i > 0; i--) { // Fisher-Yates
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int op : order) {
        double amount = op == 0 ? brightness : op == 1 ? contrast : saturation;
        double f = 1 - amount + 2 * amount * rng.nextDouble();
        Mat next = switch (op) {
          case 0 -> brightness(img, f);
          case 1 -> contrast(img, f);
          default -> saturation(img, f);
        };
        img.close();
        img = next;
      }
    }
    return s.withImage(img, s.box());
  }

  /** With probability 0.5, {@link #flip}; otherwise a copy. */
  public static BoxedImage horizontalFlip(BoxedImage s, RandomGenerator rng) {
    return rng.nextDouble() < 0.5 ? flip(s) : s.withImage(s.image().clone(), s.box());
  }

  /** Mirror image, box ({@code x1' = W - x2, x2' = W - x1}) and the words "left" and "right". */
  public static BoxedImage flip(BoxedImage s) {
    Mat out = Transforms.flip(s.image());
    return new BoxedImage(out, s.box().flippedHorizontally(s.image().cols()), swapLeftRight(s.text()), null);
  }

  static String swapLeftRight(String text) {
    Matcher m = LEFT_RIGHT.matcher(text);
    return m.replaceAll(r -> r.group(1).equals("left") ? "right" : "left");
  }

  static boolean hasDirectionWord(String text) {
    for (String w : DIRECTION_WORDS) {
      if (text.contains(w)) return true;
    }
    return false;
  }

  static Mat brightness(Mat img, double f) {
    Mat out = new Mat();
    img.convertTo(out, -1, f, 0);
    return out;
  }

  static Mat contrast(Mat img, double f) {
    double mean;
    try (Mat gray = new Mat(); Scalar m = opencv_core.mean(gray(img, gray))) {
      mean = Math.floor(m.get(0) + 0.5); // PIL: int(mean + 0.5) of the L image
    }
    Mat out = new Mat();
    img.convertTo(out, -1, f, mean * (1 - f));
    return out;
  }

  static Mat saturation(Mat img, double f) {
    Mat out = new Mat();
    try (Mat gray = new Mat(); Mat gray3 = new Mat()) {
      opencv_imgproc.cvtColor(gray(img, gray), gray3, opencv_imgproc.COLOR_GRAY2RGB);
      opencv_core.addWeighted(img, f, gray3, 1 - f, 0, out);
    }
    return out;
  }

  private static Mat gray(Mat rgb, Mat into) {
    opencv_imgproc.cvtColor(rgb, into, opencv_imgproc.COLOR_RGB2GRAY); // 0.299 R + 0.587 G + 0.114 B, as PIL "L"
    return into;
  }

  /** Returns {@code next}, closing the image of {@code previous} (an intermediate of the pipeline). */
  private static BoxedImage replace(BoxedImage previous, BoxedImage next) {
    if (previous.image() != next.image()) previous.image().close();
    return next;
  }
}
