package dev.mplug.data.dataset;

import dev.mplug.data.Box;
import java.util.List;

/** A referring expression and the box it refers to, in pixels of the original image. */
public record GroundingSample(String image, String text, Box box, long refId) implements Sample {
  static GroundingSample parse(Annotation a) {
    double[] b = a.numbers("bbox", 4);
    if (b[2] < 0 || b[3] < 0) {
      throw a.bad("field \"bbox\" must be [x, y, w, h] with w, h >= 0, got w=" + b[2] + " h=" + b[3]);
    }
    return new GroundingSample(a.relativePath("image"), a.string("text"), Box.ofXywh(b[0], b[1], b[2], b[3]),
        a.integer("ref_id"));
  }

  @Override
  public List<String> media() {
    return List.of(image);
  }

  @Override
  public Task task() {
    return Task.GROUNDING;
  }
}
