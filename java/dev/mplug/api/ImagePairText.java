package dev.mplug.api;

/** One request of {@link MPlugModel#verifyAll}: a pair of images (left, right) and a statement about them. */
public record ImagePairText(ImageInput left, ImageInput right, String text) {
  public ImagePairText {
    if (left == null) throw new IllegalArgumentException("left image is missing");
    if (right == null) throw new IllegalArgumentException("right image is missing");
    if (text == null) throw new IllegalArgumentException("text is missing");
  }
}
