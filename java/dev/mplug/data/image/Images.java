package dev.mplug.data.image;

import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR_RGB;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_QUALITY;

import dev.mplug.data.BadSampleException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Encoded image -> RGB {@code CV_8UC3} {@link Mat}, and back.
 *
 * <p>Every decode reads the header first ({@link ImageHeader}): empty, unrecognised, truncated or oversized data
 * becomes a {@link BadSampleException} naming the source, never a half-grey image or an out-of-memory error.
 * Grayscale is replicated to three channels and an alpha channel is dropped (as PIL's {@code convert("RGB")} does for
 * the official code); EXIF orientation is ignored for the same reason.
 *
 * <p>The returned Mat is owned by the caller ({@code close()} it, or open a {@code PointerScope} around the work).
 */
public final class Images {
  /**
   * Default pixel limit: PIL's decompression-bomb threshold (89,478,485 pixels, about 9459 x 9459), which the official
   * pipeline inherits through {@code Image.open}.
   */
  public static final long DEFAULT_MAX_PIXELS = 89_478_485L;

  /** OpenCV refuses larger images itself (environment variable OPENCV_IO_MAX_IMAGE_PIXELS, default 2^30). */
  public static final long OPENCV_MAX_PIXELS = opencvLimit();

  private Images() {}

  /** Decodes JPEG/PNG/WebP/BMP bytes to RGB under {@link #DEFAULT_MAX_PIXELS}. */
  public static Mat decode(byte[] bytes, String source) {
    return decode(bytes, source, DEFAULT_MAX_PIXELS);
  }

  /**
   * Decodes JPEG/PNG/WebP/BMP bytes to RGB; images over {@code maxPixels} (or over OpenCV's own limit) are rejected
   * from the header, before any pixel is decoded.
   */
  public static Mat decode(byte[] bytes, String source, long maxPixels) {
    if (maxPixels <= 0) throw new IllegalArgumentException("maxPixels must be > 0, got " + maxPixels);
    ImageHeader header = ImageHeader.parse(bytes, source);
    long limit = Math.min(maxPixels, OPENCV_MAX_PIXELS);
    if (header.pixels() > limit) {
      throw new BadSampleException(source, header.format() + " image of " + header.width() + " x " + header.height()
          + " = " + header.pixels() + " pixels is over the limit of " + limit + " (decompression bomb?)");
    }
    Loader.load(opencv_imgcodecs.class);
    Mat image;
    try (Mat buffer = new Mat(bytes)) {
      image = opencv_imgcodecs.imdecode(buffer, IMREAD_COLOR_RGB | IMREAD_IGNORE_ORIENTATION);
    } catch (RuntimeException e) { // cv::Exception arrives as RuntimeException
      throw new BadSampleException(source, "OpenCV could not decode the " + header.format() + " data: "
          + e.getMessage(), e);
    }
    if (image == null || image.empty()) {
      if (image != null) image.close();
      throw new BadSampleException(source, "OpenCV could not decode the " + header.format() + " data (corrupt "
          + header.width() + " x " + header.height() + " image)");
    }
    return image;
  }

  /** Reads and decodes an image file; a missing or unreadable file is a {@link BadSampleException}. */
  public static Mat read(Path file) {
    return read(file, DEFAULT_MAX_PIXELS);
  }

  public static Mat read(Path file, long maxPixels) {
    String source = file.toString();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new BadSampleException(source, "file not found", e);
    } catch (IOException e) {
      throw new BadSampleException(source, "cannot read the file: " + e, e);
    }
    return decode(bytes, source, maxPixels);
  }

  /** Encodes an RGB {@code CV_8UC3} image as JPEG of the given quality (1..100). */
  public static byte[] toJpeg(Mat rgb, int quality) {
    if (quality < 1 || quality > 100) throw new IllegalArgumentException("JPEG quality must be 1..100: " + quality);
    return encode(rgb, ".jpg", new int[] {IMWRITE_JPEG_QUALITY, quality});
  }

  /** Encodes an RGB {@code CV_8UC3} image as PNG (lossless). */
  public static byte[] toPng(Mat rgb) {
    return encode(rgb, ".png", new int[0]);
  }

  /** Encodes an RGB {@code CV_8UC3} image in the format of {@code extension} (".jpg", ".png", ".webp", ".bmp"). */
  public static byte[] encode(Mat rgb, String extension, int[] params) {
    requireRgb(rgb, "image to encode");
    Loader.load(opencv_imgcodecs.class);
    try (Mat bgr = new Mat(); BytePointer out = new BytePointer()) {
      opencv_imgproc.cvtColor(rgb, bgr, opencv_imgproc.COLOR_RGB2BGR); // OpenCV encoders expect BGR
      boolean ok;
      if (params.length == 0) {
        ok = opencv_imgcodecs.imencode(extension, bgr, out);
      } else {
        try (IntPointer p = new IntPointer(params)) {
          ok = opencv_imgcodecs.imencode(extension, bgr, out, p);
        }
      }
      if (!ok) throw new IllegalStateException("OpenCV could not encode a " + extension + " image");
      byte[] bytes = new byte[(int) out.limit()];
      out.get(bytes);
      return bytes;
    }
  }

  /** Throws IllegalArgumentException unless {@code m} is a non-empty 8-bit 3-channel image. */
  static void requireRgb(Mat m, String what) {
    if (m == null || m.isNull() || m.empty()) throw new IllegalArgumentException(what + " is empty");
    if (m.type() != opencv_core.CV_8UC3) {
      throw new IllegalArgumentException(what + " must be an 8-bit RGB image (CV_8UC3), got type " + m.type()
          + " with " + m.channels() + " channels");
    }
  }

  private static long opencvLimit() {
    String v = System.getenv("OPENCV_IO_MAX_IMAGE_PIXELS");
    if (v != null) {
      try {
        return Long.parseLong(v.trim());
      } catch (NumberFormatException ignored) {
        // OpenCV itself falls back to its default for an unparsable value
      }
    }
    return 1L << 30;
  }
}
