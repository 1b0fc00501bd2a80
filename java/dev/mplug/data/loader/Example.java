package dev.mplug.data.loader;

import dev.mplug.data.Box;
import java.util.List;

/**
 * A sample prepared for collation, the same shape for every task: its decoded media, the cleaned text the model reads
 * (caption, question, sentence, referring expression; null when the task has none, as for retrieval evaluation
 * images), the answers and their weights (VQA), a class label or image index ({@code -1} when none), a box (null when
 * none) and an id for the results.
 */
public record Example<I>(List<I> media, String text, List<String> answers, List<Double> answerWeights, long label,
    Box box, String id) {
  public Example {
    media = List.copyOf(media);
    answers = List.copyOf(answers);
    answerWeights = List.copyOf(answerWeights);
    if (answers.size() != answerWeights.size()) {
      throw new IllegalArgumentException(answers.size() + " answers but " + answerWeights.size() + " weights");
    }
  }
}
