package dev.mplug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.api.Answer;
import dev.mplug.api.ImageInput;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import dev.mplug.api.VideoInput;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mplug vqa IMG "question"}: the answer of a VQA checkpoint; with {@code --video}, of a video-qa one. */
@Command(name = "vqa", mixinStandardHelpOptions = true,
    description = "Answer a question about an image with a VQA checkpoint, or about a clip with --video and a "
        + "video-qa checkpoint (ranking the --answers list): prints the answer, or JSON with --json.")
public final class VqaCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "IMG|CLIP", description = "The image file; with --video, the clip (a frame "
      + "folder or a Motion-JPEG .avi).")
  Path image;

  @Option(names = "--video", description = "The input is a video clip, answered by a video-qa checkpoint.")
  boolean video;

  @Parameters(index = "1", paramLabel = "QUESTION", description = "The question, e.g. \"what color is the circle?\".")
  String question;

  @Mixin ModelOptions model;

  @Option(names = "--json", description = "Print {\"image\" (or \"video\"), \"question\", \"answer\", \"score\"} as "
      + "JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    VideoInput clip = video ? VideoInput.of(image) : null;   // refused before the model loads
    if (!video) Inputs.requireFile(image, "image");
    if (question.isBlank()) throw new IllegalArgumentException("QUESTION is empty");
    Answer a;
    try (MPlugModel m = model.builder(video ? Task.VIDEO_QA : Task.VQA).build()) {
      a = video ? m.answer(clip, question) : m.answer(ImageInput.of(image), question);
    }
    if (json) {
      ObjectMapper mapper = new ObjectMapper();
      System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(mapper.createObjectNode()
          .put(video ? "video" : "image", image.toString()).put("question", question).put("answer", a.text())
          .put("score", a.score())));
    } else {
      System.out.println(a.text());
    }
    return 0;
  }
}
