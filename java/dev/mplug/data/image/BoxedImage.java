package dev.mplug.data.image;

import dev.mplug.data.Box;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * An image with the box a referring expression points at, and the expression (a flip swaps "left" and "right" in
 * it), as they move together through the grounding transforms. {@code content} is where the image's own pixels lie
 * ({@code x, y, w, h}); it differs from the whole canvas only after {@link Letterbox} padding, and gives the padding
 * mask. The annotation record itself is {@code dataset.GroundingSample}.
 */
public record BoxedImage(Mat image, Box box, String text, int[] content) {
  public BoxedImage {
    Images.requireRgb(image, "grounding image");
    if (content == null) content = new int[] {0, 0, image.cols(), image.rows()};
    if (content.length != 4) throw new IllegalArgumentException("content must be {x, y, w, h}");
    content = content.clone();
  }

  public BoxedImage(Mat image, Box box, String text) {
    this(image, box, text, null);
  }

  public BoxedImage withImage(Mat newImage, Box newBox) {
    return new BoxedImage(newImage, newBox, text, null);
  }

  @Override
  public int[] content() {
    return content.clone();
  }
}
