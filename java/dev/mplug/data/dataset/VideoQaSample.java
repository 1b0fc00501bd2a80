package dev.mplug.data.dataset;

import java.util.List;

/**
 * A question about a video and its answer: this project's format ({@code {"video", "question", "answer"}}) or the
 * official MSRVTT-QA / MSVD-QA lines ({@code {"video_id", "question", "answer"}}, the clip named without extension).
 */
public record VideoQaSample(String video, String question, String answer) implements Sample {
  static VideoQaSample parse(Annotation a) {
    return new VideoQaSample(a.relativePath(a.has("video") ? "video" : "video_id"), a.string("question"),
        a.string("answer"));
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
