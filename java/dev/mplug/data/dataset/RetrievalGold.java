package dev.mplug.data.dataset;

import dev.mplug.data.BadSampleException;
import java.util.ArrayList;
import java.util.List;

/**
 * The texts of a retrieval evaluation and who matches whom: text {@code t} describes image {@code textToImage[t]},
 * image {@code i} is described by texts {@code imageToTexts[i]} (empty for an unusable entry, so image indices stay
 * aligned with the file).
 */
public record RetrievalGold(List<String> texts, int[] textToImage, int[][] imageToTexts) {
  public static RetrievalGold of(Dataset<RetrievalEvalSample> eval) {
    List<String> texts = new ArrayList<>();
    List<Integer> textToImage = new ArrayList<>();
    int[][] imageToTexts = new int[eval.size()][];
    for (int i = 0; i < eval.size(); i++) {
      try {
        RetrievalEvalSample s = eval.get(i);
        imageToTexts[i] = new int[s.captions().size()];
        for (int k = 0; k < s.captions().size(); k++) {
          imageToTexts[i][k] = texts.size();
          texts.add(s.captions().get(k));
          textToImage.add(i);
        }
      } catch (BadSampleException e) {
        imageToTexts[i] = new int[0];
      }
    }
    return new RetrievalGold(List.copyOf(texts), textToImage.stream().mapToInt(Integer::intValue).toArray(),
        imageToTexts);
  }
}
