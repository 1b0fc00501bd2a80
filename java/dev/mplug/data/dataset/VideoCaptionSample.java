package dev.mplug.data.dataset;

import java.util.List;

/** A video with one or more captions (captioning and text-video retrieval). */
public record VideoCaptionSample(String video, List<String> captions) implements Sample {
  public VideoCaptionSample {
    captions = List.copyOf(captions);
  }

  static VideoCaptionSample parse(Annotation a) {
    return new VideoCaptionSample(a.relativePath("video"), a.stringOrStrings("caption"));
  }

  @Override
  public List<String> media() {
    return List.of(video);
  }

  @Override
  public Task task() {
    return Task.VIDEO_CAPTION;
  }
}
