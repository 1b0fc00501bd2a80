package dev.mplug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.mplug.api.Caption;
import dev.mplug.api.ImageInput;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import dev.mplug.api.VideoInput;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mplug caption IMG...} / {@code mplug caption --video CLIP...}: a caption for each image or clip. */
@Command(name = "caption", mixinStandardHelpOptions = true,
    description = "Caption images with a captioning checkpoint, or clips with --video and a video-caption checkpoint: "
        + "one line per input (path, tab, caption), or JSON with --json.")
public final class CaptionCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "IMG|CLIP", description = "Image files (JPEG, PNG, WebP, BMP); with "
      + "--video, clips (frame folders or Motion-JPEG .avi).")
  List<Path> inputs;

  @Option(names = "--video", description = "The inputs are video clips, captioned by a video-caption checkpoint.")
  boolean video;

  @Mixin ModelOptions model;

  @Option(names = "--json", description = "Print [{\"image\" (or \"video\"), \"caption\", \"score\"}] as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    List<Caption> captions;
    if (video) {
      List<VideoInput> clips = inputs.stream().map(VideoInput::of).toList();   // refused before the model loads
      try (MPlugModel m = model.builder(Task.VIDEO_CAPTION).build()) {
        captions = m.captionClips(clips);
      }
    } else {
      Inputs.requireFiles(inputs);
      try (MPlugModel m = model.builder(Task.CAPTION).build()) {
        captions = m.captionAll(inputs.stream().map(ImageInput::of).toList());
      }
    }
    if (json) {
      ObjectMapper mapper = new ObjectMapper();
      ArrayNode out = mapper.createArrayNode();
      for (int i = 0; i < inputs.size(); i++) {
        out.addObject().put(video ? "video" : "image", inputs.get(i).toString()).put("caption", captions.get(i).text())
            .put("score", captions.get(i).score());
      }
      System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(out));
    } else {
      for (int i = 0; i < inputs.size(); i++) System.out.println(inputs.get(i) + "\t" + captions.get(i).text());
    }
    return 0;
  }
}
