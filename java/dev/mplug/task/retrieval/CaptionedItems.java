package dev.mplug.task.retrieval;

import dev.mplug.data.text.TextCleaning;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * What a retrieval evaluation ranks: its items (images or clips) in file order, all their captions flattened in that
 * order (each through pre_caption), and the gold pairing that order implies (item i owns the next {@code count(i)}
 * captions: {@link RetrievalRanking.Gold#consecutive}).
 *
 * @param <S> the evaluation sample type (an image's or a clip's)
 */
public record CaptionedItems<S>(List<S> items, List<String> captions, RetrievalRanking.Gold gold) {

  /**
   * The first {@code n} samples of an evaluation file with their captions.
   *
   * @param sample the i-th sample (read from the file)
   * @param captionsOf a sample's raw captions
   * @param maxWords words kept by pre_caption
   * @param annotations the file, named in the error when it holds no captions
   */
  public static <S> CaptionedItems<S> read(int n, IntFunction<S> sample, Function<S, List<String>> captionsOf,
      int maxWords, Path annotations) {
    List<S> items = new ArrayList<>(n);
    List<String> captions = new ArrayList<>();
    int[] counts = new int[n];
    for (int i = 0; i < n; i++) {
      S s = sample.apply(i);
      items.add(s);
      List<String> raw = captionsOf.apply(s);
      for (String c : raw) captions.add(TextCleaning.preCaption(c, maxWords));
      counts[i] = raw.size();
    }
    if (captions.isEmpty()) {
      throw new IllegalArgumentException("eval.annotations: " + annotations + " holds no captions");
    }
    return new CaptionedItems<>(List.copyOf(items), List.copyOf(captions), RetrievalRanking.Gold.consecutive(counts));
  }
}
