package dev.mplug.data.image;

import org.bytedeco.opencv.opencv_core.Mat;

/**
 * A referring expression with its image and box, as it moves through the grounding transforms. {@code content} is
 * where the image's own pixels lie ({@code x, y, w, h}); it differs from the whole canvas only after
 * {@link Letterbox} padding, and gives the padding mask.
 */
public record GroundingSample(Mat image, Box box, String text, int[] content) {
  public GroundingSample {
    Images.requireRgb(image, "grounding image");
    if (content == null) content = new int[] {0, 0, image.cols(), image.rows()};
    if (content.length != 4) throw new IllegalArgumentException("content must be {x, y, w, h}");
    content = content.clone();
  }

  public GroundingSample(Mat image, Box box, String text) {
    this(image, box, text, null);
  }

  public GroundingSample withImage(Mat newImage, Box newBox) {
    return new GroundingSample(newImage, newBox, text, null);
  }

  @Override
  public int[] content() {
    return content.clone();
  }
}
