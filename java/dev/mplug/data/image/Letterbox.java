package dev.mplug.data.image;

import dev.mplug.data.Box;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;

/**
 * Grounding's square canvas: scale so the long side is {@code size} (aspect kept), then pad to
 * {@code size x size}, moving the box with the image. As the official NormalizeAndPad: centred with
 * {@code top = round(dh / 2 - 0.1)}, {@code left = round(dw / 2 - 0.1)}, or, for the translate augmentation,
 * {@code top} uniform in {@code 0..dh} and {@code left} in {@code 0..dw}.
 *
 * <p>The official code pads the NORMALISED tensor with 0; here padding happens before normalisation, with the CLIP
 * mean colour {@link #PAD_RGB}, which normalises to within 0.008 of 0.
 */
public final class Letterbox {
  public static final int[] PAD_RGB = {123, 117, 104}; // round(255 * ImageBatch.MEAN)

  private Letterbox() {}

  /** Resize (long side = size, bilinear as the official RandomResize) then centred padding: the eval transform. */
  public static BoxedImage fit(BoxedImage s, int size) {
    BoxedImage resized = resizeLongSide(s, size);
    try {
      return pad(resized, size, false, null);
    } finally {
      resized.image().close();
    }
  }

  /** Scales the image so that its long side is {@code size}; the box scales with it. */
  public static BoxedImage resizeLongSide(BoxedImage s, int size) {
    return resizeTo(s, size, true);
  }

  /** Scales the image so that its long (or short) side is {@code size}, sizes rounded half to even as Python. */
  static BoxedImage resizeTo(BoxedImage s, int size, boolean longSide) {
    if (size <= 0) throw new IllegalArgumentException("resize target must be > 0, got " + size);
    int h = s.image().rows();
    int w = s.image().cols();
    double ratio = (double) size / (longSide ? Math.max(h, w) : Math.min(h, w));
    int nw = Math.max(1, (int) Math.rint(w * ratio));
    int nh = Math.max(1, (int) Math.rint(h * ratio));
    Mat out = Transforms.resize(s.image(), nw, nh, opencv_imgproc.INTER_LINEAR);
    return s.withImage(out, s.box().scaled(ratio, ratio));
  }

  /**
   * Pads an image no larger than {@code size} on either side to {@code size x size}; {@code randomPlacement} puts it
   * anywhere (the translate augmentation, drawing from {@code rng}), otherwise centred.
   */
  public static BoxedImage pad(BoxedImage s, int size, boolean randomPlacement, RandomGenerator rng) {
    int h = s.image().rows();
    int w = s.image().cols();
    if (h > size || w > size) {
      throw new IllegalArgumentException("image of " + w + " x " + h + " does not fit a " + size + " canvas; "
          + "resize the long side first");
    }
    int dh = size - h;
    int dw = size - w;
    int top;
    int left;
    if (randomPlacement) {
      top = rng.nextInt(dh + 1);
      left = rng.nextInt(dw + 1);
    } else {
      top = (int) Math.rint(dh / 2.0 - 0.1);
      left = (int) Math.rint(dw / 2.0 - 0.1);
    }
    Mat out = new Mat();
    try (Scalar fill = new Scalar(PAD_RGB[0], PAD_RGB[1], PAD_RGB[2], 0)) {
      opencv_core.copyMakeBorder(s.image(), out, top, dh - top, left, dw - left, opencv_core.BORDER_CONSTANT, fill);
    }
    return new BoxedImage(out, s.box().translated(left, top), s.text(), new int[] {left, top, w, h});
  }
}
