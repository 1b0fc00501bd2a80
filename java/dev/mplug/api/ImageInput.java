package dev.mplug.api;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.image.Images;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * An image to ask about: a file, encoded bytes (JPEG, PNG, WebP, BMP) or a {@link BufferedImage}. Nothing is read or
 * decoded until a model uses it; then an unreadable, corrupt or oversized image is an {@link IllegalArgumentException}
 * naming the image. Every form is decoded by the same OpenCV pipeline as training and evaluation (a
 * {@code BufferedImage} through lossless PNG), so an image gives the same answer whichever way it is passed.
 */
public final class ImageInput {
  private final String name;
  private final Path file;
  private final byte[] bytes;
  private final BufferedImage image;

  private ImageInput(String name, Path file, byte[] bytes, BufferedImage image) {
    this.name = name;
    this.file = file;
    this.bytes = bytes;
    this.image = image;
  }

  /** An image file. */
  public static ImageInput of(Path file) {
    if (file == null) throw new IllegalArgumentException("image path is missing");
    return new ImageInput(file.toString(), file, null, null);
  }

  /** Encoded image bytes; {@code name} says which image in error messages (e.g. an upload's field name). */
  public static ImageInput of(byte[] encoded, String name) {
    if (encoded == null) throw new IllegalArgumentException(name + ": image bytes are missing");
    return new ImageInput(name, null, encoded.clone(), null);
  }

  /** An image in memory (its alpha channel, if any, is dropped). */
  public static ImageInput of(BufferedImage image) {
    if (image == null) throw new IllegalArgumentException("image is missing");
    return new ImageInput("image " + image.getWidth() + " x " + image.getHeight(), null, null, image);
  }

  /** What error messages call this image: the path, the given name, or the size. */
  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return name;
  }

  /** Decodes to RGB (owned by the caller); images over {@code maxPixels} are refused from their header. */
  Mat decode(long maxPixels) {
    try {
      if (file != null) return Images.read(file, maxPixels);
      return Images.decode(bytes != null ? bytes : png(image), name, maxPixels);
    } catch (BadSampleException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static byte[] png(BufferedImage image) {
    BufferedImage rgb = image;
    if (image.getType() != BufferedImage.TYPE_INT_RGB && image.getType() != BufferedImage.TYPE_3BYTE_BGR) {
      // getRGB gives sRGB with the alpha in the top byte; TYPE_INT_RGB ignores that byte: alpha dropped, not blended
      int w = image.getWidth();
      int h = image.getHeight();
      rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      rgb.setRGB(0, 0, w, h, image.getRGB(0, 0, w, h, null, 0, w), 0, w);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(rgb, "png", out)) throw new IllegalStateException("the JDK has no PNG writer");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
