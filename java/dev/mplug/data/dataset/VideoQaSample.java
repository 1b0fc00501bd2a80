package dev.mplug.data.dataset;

import java.util.List;

/** A question about a video and its answer. */
public record VideoQaSample(String video, String question, String answer) implements Sample {
  static VideoQaSample parse(Annotation a) {
    return new VideoQaSample(a.relativePath("video"), a.string("question"), a.string("answer"));
  }

  @Override
  public List<String> media() {
    return List.of(video);
  }

  @Override
  public Task task() {
    return Task.VIDEO_QA;
  }
}
