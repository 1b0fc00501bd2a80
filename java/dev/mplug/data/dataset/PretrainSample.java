package dev.mplug.data.dataset;

import java.util.List;

/** Pretraining pair: one image and one or more captions (a caption is drawn per epoch). */
public record PretrainSample(String image, List<String> captions) implements Sample {
  public PretrainSample {
    captions = List.copyOf(captions);
  }

  static PretrainSample parse(Annotation a) {
    return new PretrainSample(a.relativePath("image"), a.stringOrStrings("caption"));
  }

  @Override
  public List<String> media() {
    return List.of(image);
  }

  @Override
  public Task task() {
    return Task.PRETRAIN;
  }
}
