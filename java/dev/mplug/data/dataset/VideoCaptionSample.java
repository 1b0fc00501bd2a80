package dev.mplug.data.dataset;

import java.util.List;

/**
 * A video with one or more captions (captioning and text-video retrieval). Read from this project's format
 * ({@code {"video", "caption": [..]}}), the official MSRVTT retrieval test file ({@code {"clip_name", "caption"}}) or
 * VATEX ({@code {"videoID", "enCap": [..]}}); official clip names carry no extension (see
 * {@link dev.mplug.data.video.VideoFrames#resolve}).
 */
public record VideoCaptionSample(String video, List<String> captions) implements Sample {
  public VideoCaptionSample {
    captions = List.copyOf(captions);
  }

  static VideoCaptionSample parse(Annotation a) {
    String video = a.relativePath(a.has("video") ? "video" : a.has("clip_name") ? "clip_name" : "videoID");
    return new VideoCaptionSample(video, a.stringOrStrings(a.has("enCap") ? "enCap" : "caption"));
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
