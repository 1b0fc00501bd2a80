package dev.mplug.data.image;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;

/** Tiny test helpers: make RGB Mats and read or write single pixels. */
final class Pixels {
  private Pixels() {}

  static Mat filled(int w, int h, int r, int g, int b) {
    return new Mat(h, w, CV_8UC3, new Scalar(r, g, b, 0));
  }

  static int[] at(Mat m, int x, int y) {
    var p = m.ptr(y, x);
    return new int[] {p.get(0) & 0xFF, p.get(1) & 0xFF, p.get(2) & 0xFF};
  }

  static void set(Mat m, int x, int y, int r, int g, int b) {
    var p = m.ptr(y, x);
    p.put(0, (byte) r);
    p.put(1, (byte) g);
    p.put(2, (byte) b);
  }

  /** Fills the rectangle [x, x + w) x [y, y + h). */
  static void fill(Mat m, int x, int y, int w, int h, int r, int g, int b) {
    for (int yy = y; yy < y + h; yy++) {
      for (int xx = x; xx < x + w; xx++) set(m, xx, yy, r, g, b);
    }
  }

  static byte[] bytes(Mat m) {
    Mat c = m.isContinuous() ? m : m.clone();
    byte[] out = new byte[(int) (c.total() * c.elemSize())];
    c.data().get(out);
    return out;
  }
}
