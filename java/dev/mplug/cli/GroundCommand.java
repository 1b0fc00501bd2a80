package dev.mplug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.api.BoundingBox;
import dev.mplug.api.ImageInput;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import dev.mplug.data.image.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Scalar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mplug ground IMG "phrase"}: the box a referring expression points at, printed and drawn. */
@Command(name = "ground", mixinStandardHelpOptions = true,
    description = "Locate what a phrase refers to with a grounding checkpoint: prints the box in pixels (x1 y1 x2 "
        + "y2) and writes a PNG copy of the image with the box drawn.")
public final class GroundCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "IMG", description = "The image file.")
  Path image;

  @Parameters(index = "1", paramLabel = "PHRASE", description = "The referring expression, e.g. \"the red circle\".")
  String phrase;

  @Option(names = "--out", paramLabel = "PNG", description = "Where to write the image with the box (default: "
      + "<image name>-box.png in the current folder).")
  Path out;

  @Mixin ModelOptions model;

  @Option(names = "--json", description = "Print {\"image\", \"phrase\", \"box\" (pixels), \"normalized\", "
      + "\"width\", \"height\", \"drawn\"} as JSON.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    Inputs.requireFile(image, "image");
    if (phrase.isBlank()) throw new IllegalArgumentException("PHRASE is empty");
    Path drawn = out != null ? out : Path.of(stem(image) + "-box.png");
    Path folder = drawn.toAbsolutePath().getParent();
    if (folder != null && !Files.isDirectory(folder)) {
      throw new IllegalArgumentException("--out " + drawn + ": the folder " + folder + " does not exist");
    }
    BoundingBox box;
    try (MPlugModel m = model.builder(Task.GROUNDING).build()) {
      box = m.ground(ImageInput.of(image), phrase);
    }
    double[] px = box.pixels();
    Files.write(drawn, draw(image, px));
    if (json) {
      ObjectMapper mapper = new ObjectMapper();
      ObjectNode o = mapper.createObjectNode().put("image", image.toString()).put("phrase", phrase);
      o.putArray("box").add(px[0]).add(px[1]).add(px[2]).add(px[3]);
      o.putArray("normalized").add(box.x1()).add(box.y1()).add(box.x2()).add(box.y2());
      o.put("width", box.imageWidth()).put("height", box.imageHeight()).put("drawn", drawn.toString());
      System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(o));
    } else {
      System.out.printf(Locale.ROOT, "%.1f %.1f %.1f %.1f%n", px[0], px[1], px[2], px[3]);
      System.err.println("wrote " + drawn);
    }
    return 0;
  }

  /** The image as PNG with the box outlined in red (2 px, or 1/200 of the long side on large images). */
  static byte[] draw(Path image, double[] px) {
    try (Mat rgb = Images.read(image)) {
      int thickness = Math.max(2, Math.max(rgb.cols(), rgb.rows()) / 200);
      try (Point a = new Point((int) Math.round(px[0]), (int) Math.round(px[1]));
          Point b = new Point((int) Math.round(px[2]), (int) Math.round(px[3]));
          Scalar red = new Scalar(255, 0, 0, 0)) {
        opencv_imgproc.rectangle(rgb, a, b, red, thickness, opencv_imgproc.LINE_8, 0);
      }
      return Images.toPng(rgb);
    }
  }

  private static String stem(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
