package dev.mplug.data.dataset;

import java.util.List;

/**
 * Retrieval training pair (ALBEF style). {@code imageIndex} numbers the distinct {@code image_id}s in order of first
 * appearance; captions of the same image share it (the multi-positive ITC targets use it).
 */
public record RetrievalSample(String image, String caption, String imageId, int imageIndex) implements Sample {
  @Override
  public List<String> media() {
    return List.of(image);
  }

  @Override
  public Task task() {
    return Task.RETRIEVAL;
  }
}
