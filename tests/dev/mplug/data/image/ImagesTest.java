package dev.mplug.data.image;

import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_WEBP_QUALITY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.BadSampleException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
  /** An image encoded by the JDK (not OpenCV), so a channel-order bug cannot cancel out on the round trip. */
  static byte[] jdkImage(String format, int type, int argb) throws IOException {
    BufferedImage img = new BufferedImage(8, 6, type);
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 8; x++) {
        if (type == BufferedImage.TYPE_BYTE_GRAY) {
          img.getRaster().setSample(x, y, 0, argb & 0xFF); // raw grey level (setRGB would linearise sRGB)
        } else {
          img.setRGB(x, y, x < 4 ? argb : 0xFF0000FF); // right half blue
        }
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, format, out), "JDK writer for " + format);
    return out.toByteArray();
  }

  static byte[] jpegOf(int w, int h) {
    try (Mat m = Pixels.filled(w, h, 200, 40, 40)) {
      return Images.toJpeg(m, 90);
    }
  }

  static BadSampleException bad(byte[] bytes) {
    return assertThrows(BadSampleException.class, () -> Images.decode(bytes, "sample.bin"));
  }

  @Test
  void decodesPngAndBmpToRgbOrder() throws IOException {
    for (String format : new String[] {"png", "bmp"}) {
      try (Mat m = Images.decode(jdkImage(format, BufferedImage.TYPE_INT_RGB, 0xFFFF0000), format)) {
        assertEquals(opencv_core.CV_8UC3, m.type(), format);
        assertEquals(8, m.cols());
        assertEquals(6, m.rows());
        assertArrayEquals(new int[] {255, 0, 0}, Pixels.at(m, 1, 1), format + " left half is red");
        assertArrayEquals(new int[] {0, 0, 255}, Pixels.at(m, 6, 4), format + " right half is blue");
      }
    }
  }

  @Test
  void decodesJpegAndWebp() throws IOException {
    try (Mat m = Images.decode(jdkImage("jpg", BufferedImage.TYPE_INT_RGB, 0xFFFF0000), "jpg")) {
      int[] p = Pixels.at(m, 0, 0);
      assertTrue(p[0] > 200 && p[1] < 60 && p[2] < 60, "JPEG red stays red: " + Arrays.toString(p));
    }
    try (Mat src = Pixels.filled(16, 12, 10, 200, 30)) {
      byte[] webp = Images.encode(src, ".webp", new int[] {IMWRITE_WEBP_QUALITY, 101}); // > 100: lossless
      assertEquals("RIFF", new String(webp, 0, 4, StandardCharsets.US_ASCII));
      ImageHeader h = ImageHeader.parse(webp, "w");
      assertEquals(new ImageHeader(ImageHeader.Format.WEBP, 16, 12), h);
      try (Mat m = Images.decode(webp, "webp")) {
        assertArrayEquals(new int[] {10, 200, 30}, Pixels.at(m, 5, 5), "lossless WebP is exact");
      }
      byte[] lossy = Images.encode(src, ".webp", new int[] {IMWRITE_WEBP_QUALITY, 80});
      assertEquals("VP8 ", new String(lossy, 12, 4, StandardCharsets.US_ASCII));
      assertEquals(new ImageHeader(ImageHeader.Format.WEBP, 16, 12), ImageHeader.parse(lossy, "w"));
      try (Mat m = Images.decode(lossy, "webp")) {
        int[] p = Pixels.at(m, 5, 5);
        assertTrue(Math.abs(p[1] - 200) < 20 && p[0] < 50 && p[2] < 60, Arrays.toString(p));
      }
      BadSampleException e = bad(Arrays.copyOf(lossy, lossy.length - 10));
      assertTrue(e.reason().contains("truncated WebP"), e.reason());
    }
  }

  @Test
  void grayscaleAndAlphaBecomeRgb() throws IOException {
    try (Mat m = Images.decode(jdkImage("png", BufferedImage.TYPE_BYTE_GRAY, 0xFF808080), "gray.png")) {
      assertEquals(3, m.channels());
      int[] p = Pixels.at(m, 0, 0);
      assertEquals(p[0], p[1]);
      assertEquals(p[1], p[2]);
      assertEquals(128, p[0], "grey level kept");
    }
    try (Mat m = Images.decode(jdkImage("png", BufferedImage.TYPE_INT_ARGB, 0x80FF0000), "alpha.png")) {
      assertEquals(3, m.channels());
      assertArrayEquals(new int[] {255, 0, 0}, Pixels.at(m, 0, 0), "alpha dropped, colour kept");
    }
  }

  @Test
  void headerGivesDimensionsOfEveryFormat() throws IOException {
    assertEquals(new ImageHeader(ImageHeader.Format.JPEG, 64, 48), ImageHeader.parse(jpegOf(64, 48), "j"));
    assertEquals(new ImageHeader(ImageHeader.Format.PNG, 8, 6),
        ImageHeader.parse(jdkImage("png", BufferedImage.TYPE_INT_RGB, 0xFF00FF00), "p"));
    assertEquals(new ImageHeader(ImageHeader.Format.BMP, 8, 6),
        ImageHeader.parse(jdkImage("bmp", BufferedImage.TYPE_INT_RGB, 0xFF00FF00), "b"));
  }

  @Test
  void zeroByteTruncatedAndNonImageDataAreBadSamples() throws IOException {
    BadSampleException e = bad(new byte[0]);
    assertEquals("sample.bin", e.source());
    assertTrue(e.reason().contains("empty"), e.reason());

    byte[] jpeg = jpegOf(64, 48);
    e = bad(Arrays.copyOf(jpeg, jpeg.length * 2 / 3));
    assertTrue(e.reason().contains("truncated JPEG"), e.reason());
    e = bad(Arrays.copyOf(jpeg, 40)); // cut inside the headers
    assertTrue(e.reason().contains("truncated JPEG"), e.reason());

    byte[] png = jdkImage("png", BufferedImage.TYPE_INT_RGB, 0xFF00FF00);
    e = bad(Arrays.copyOf(png, png.length - 20));
    assertTrue(e.reason().contains("truncated PNG"), e.reason());

    byte[] bmp = jdkImage("bmp", BufferedImage.TYPE_INT_RGB, 0xFF00FF00);
    e = bad(Arrays.copyOf(bmp, bmp.length - 30));
    assertTrue(e.reason().contains("truncated BMP"), e.reason());

    e = bad("caption: a red circle\n".getBytes(StandardCharsets.UTF_8));
    assertTrue(e.reason().contains("not a JPEG, PNG, WebP or BMP image"), e.reason());
  }

  @Test
  void hugeHeaderIsRejectedBeforeDecoding() {
    byte[] jpeg = jpegOf(64, 48);
    // patch the SOF0 frame header to claim 60000 x 60000 (3.6 gigapixels) in a file of a few hundred bytes
    int sof = indexOf(jpeg, 0xFF, 0xC0);
    jpeg[sof + 5] = (byte) (60000 >> 8);
    jpeg[sof + 6] = (byte) 60000;
    jpeg[sof + 7] = (byte) (60000 >> 8);
    jpeg[sof + 8] = (byte) 60000;
    BadSampleException e = bad(jpeg);
    assertTrue(e.reason().contains("60000 x 60000") && e.reason().contains("over the limit"), e.reason());

    // a configurable limit: 64 x 48 = 3072 pixels
    byte[] ok = jpegOf(64, 48);
    e = assertThrows(BadSampleException.class, () -> Images.decode(ok, "small", 3071));
    assertTrue(e.reason().contains("over the limit of 3071"), e.reason());
    try (Mat m = Images.decode(ok, "small", 3072)) {
      assertEquals(64, m.cols());
    }
  }

  @Test
  void readNamesTheMissingFile(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("nope.jpg");
    BadSampleException e = assertThrows(BadSampleException.class, () -> Images.read(missing));
    assertEquals(missing.toString(), e.source());
    assertEquals("file not found", e.reason());
    Path file = dir.resolve("a.jpg");
    Files.write(file, jpegOf(20, 10));
    try (Mat m = Images.read(file)) {
      assertEquals(20, m.cols());
      assertEquals(10, m.rows());
    }
  }

  private static int indexOf(byte[] b, int x, int y) {
    for (int i = 0; i + 1 < b.length; i++) {
      if ((b[i] & 0xFF) == x && (b[i + 1] & 0xFF) == y) return i;
    }
    throw new AssertionError("marker not found");
  }
}
