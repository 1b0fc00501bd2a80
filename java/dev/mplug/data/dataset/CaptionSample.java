package dev.mplug.data.dataset;

import java.util.List;

/**
 * COCO Karpathy-style captioning: training entries carry one caption, validation/test entries the list of reference
 * captions of the image.
 */
public record CaptionSample(String image, List<String> captions, String imageId) implements Sample {
  public CaptionSample {
    captions = List.copyOf(captions);
  }

  static CaptionSample parse(Annotation a) {
    return new CaptionSample(a.relativePath("image"), a.stringOrStrings("caption"), a.id("image_id"));
  }

  @Override
  public List<String> media() {
    return List.of(image);
  }

  @Override
  public Task task() {
    return Task.CAPTION;
  }
}
