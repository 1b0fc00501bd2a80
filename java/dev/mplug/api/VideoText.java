package dev.mplug.api;

/** One request of {@link MPlugModel#answerClips}: a clip and a question about it. */
public record VideoText(VideoInput clip, String text) {
  public VideoText {
    if (clip == null) throw new IllegalArgumentException("clip is missing");
    if (text == null) throw new IllegalArgumentException("text is missing");
  }
}
