package dev.mplug.data.dataset;

import java.util.List;

/**
 * One image of a retrieval evaluation file with its gold captions; the captions are texts
 * {@code firstText .. firstText + captions.size() - 1} of the evaluation's text list.
 */
public record RetrievalEvalSample(String image, List<String> captions, int imageIndex, int firstText)
    implements Sample {
  public RetrievalEvalSample {
    captions = List.copyOf(captions);
  }

  @Override
  public List<String> media() {
    return List.of(image);
  }

  @Override
  public Task task() {
    return Task.RETRIEVAL_EVAL;
  }
}
