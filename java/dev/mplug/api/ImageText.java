package dev.mplug.api;

/**
 * One request of a batch: an image and its text (a question for {@link MPlugModel#answerAll}, a referring expression
 * for {@link MPlugModel#groundAll}).
 */
public record ImageText(ImageInput image, String text) {
  public ImageText {
    if (image == null) throw new IllegalArgumentException("image is missing");
    if (text == null) throw new IllegalArgumentException("text is missing");
  }
}
