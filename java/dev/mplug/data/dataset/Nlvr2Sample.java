package dev.mplug.data.dataset;

import java.util.List;

/** NLVR2: a sentence that is true or false of a pair of images. */
public record Nlvr2Sample(List<String> images, String sentence, boolean label) implements Sample {
  public Nlvr2Sample {
    images = List.copyOf(images);
    if (images.size() != 2) throw new IllegalArgumentException("NLVR2 needs 2 images, got " + images.size());
  }

  static Nlvr2Sample parse(Annotation a) {
    List<String> images = a.strings("images");
    if (images.size() != 2) throw a.bad("field \"images\" must list 2 images, got " + images.size());
    for (String image : images) a.checkRelative("images", image);
    String label = a.string("label");
    boolean value = switch (label) {
      case "True" -> true;
      case "False" -> false;
      default -> throw a.bad("field \"label\" must be \"True\" or \"False\", got \"" + label + "\"");
    };
    return new Nlvr2Sample(images, a.string("sentence"), value);
  }

  @Override
  public List<String> media() {
    return images;
  }

  @Override
  public Task task() {
    return Task.NLVR2;
  }
}
