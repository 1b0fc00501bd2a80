package dev.mplug.data.synth;

import static org.bytedeco.opencv.global.opencv_core.CV_32SC2;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.RNG;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/** Draws scenes with OpenCV: RGB {@code CV_8UC3}, shapes without anti-aliasing (exact boxes), deterministic. */
public final class Renderer {
  private Renderer() {}

  /** The picture of {@code scene}; the caller owns the Mat. */
  public static Mat render(Scene scene) {
    Mat img = backdrop(scene.size(), scene.backdrop());
    for (Figure f : scene.figures()) paint(img, f);
    return img;
  }

  static Mat backdrop(int size, Backdrop b) {
    return switch (b.kind()) {
      case PLAIN -> new Mat(size, size, CV_8UC3, grey(b.grey1()));
      case GRADIENT -> {
        // a 2-pixel ramp stretched bilinearly to the full side
        try (Mat ends = new Mat(b.vertical() ? 2 : 1, b.vertical() ? 1 : 2, CV_8UC3); Size s = new Size(size, size)) {
          byte g1 = (byte) b.grey1();
          byte g2 = (byte) b.grey2();
          ends.data().put(new byte[] {g1, g1, g1, g2, g2, g2});
          Mat out = new Mat();
          opencv_imgproc.resize(ends, out, s, 0, 0, opencv_imgproc.INTER_LINEAR);
          yield out;
        }
      }
      case NOISE -> {
        Mat out = new Mat();
        try (Mat base = new Mat(size, size, CV_8UC3, grey(b.grey1() - Backdrop.NOISE));
            Mat noise = new Mat(size, size, CV_8UC3);
            RNG rng = new RNG(b.noiseSeed());
            // per-channel bounds as 3 x 1 matrices: uniform integers in [0, 2 NOISE]
            Mat lo = new Mat(3, 1, opencv_core.CV_64FC1, new Scalar(0));
            Mat hi = new Mat(3, 1, opencv_core.CV_64FC1, new Scalar(2 * Backdrop.NOISE + 1))) {
          rng._fill(noise, RNG.UNIFORM, lo, hi);
          opencv_core.add(base, noise, out);
        }
        yield out;
      }
    };
  }

  /** Paints one figure in its colour. */
  static void paint(Mat img, Figure f) {
    try (Scalar colour = new Scalar(f.colour().r, f.colour().g, f.colour().b, 0)) {
      if (f.shape() == Vocabulary.Shape.CIRCLE) {
        try (Point c = new Point(f.cx(), f.cy())) {
          opencv_imgproc.circle(img, c, f.radius(), colour, opencv_imgproc.FILLED, opencv_imgproc.LINE_8, 0);
        }
        return;
      }
      int[] v = f.vertices();
      try (Mat points = new Mat(v.length / 2, 1, CV_32SC2);
          IntPointer data = new IntPointer(points.data());
          MatVector polygons = new MatVector(points);
          Point offset = new Point(0, 0)) {
        data.put(v);
        opencv_imgproc.fillPoly(img, polygons, colour, opencv_imgproc.LINE_8, 0, offset);
      }
    }
  }

  private static Scalar grey(int level) {
    return new Scalar(level, level, level, 0);
  }
}
