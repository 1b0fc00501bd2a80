package dev.mplug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.mplug.api.Caption;
import dev.mplug.api.ImageInput;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mplug caption IMG...}: a caption for each image from a captioning checkpoint. */
@Command(name = "caption", mixinStandardHelpOptions = true,
    description = "Caption images with a captioning checkpoint: one line per image (image, tab, caption), or JSON "
        + "with --json.")
public final class CaptionCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "IMG", description = "Image files (JPEG, PNG, WebP, BMP).")
  List<Path> images;

  @Mixin ModelOptions model;

  @Option(names = "--json", description = "Print [{\"image\", \"caption\", \"score\"}] as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Inputs.requireFiles(images);
    List<Caption> captions;
    try (MPlugModel m = model.builder(Task.CAPTION).build()) {
      captions = m.captionAll(images.stream().map(ImageInput::of).toList());
    }
    if (json) {
      ObjectMapper mapper = new ObjectMapper();
      ArrayNode out = mapper.createArrayNode();
      for (int i = 0; i < images.size(); i++) {
        out.addObject().put("image", images.get(i).toString()).put("caption", captions.get(i).text())
            .put("score", captions.get(i).score());
      }
      System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(out));
    } else {
      for (int i = 0; i < images.size(); i++) System.out.println(images.get(i) + "\t" + captions.get(i).text());
    }
    return 0;
  }
}
