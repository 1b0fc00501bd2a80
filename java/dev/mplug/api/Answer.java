package dev.mplug.api;

/**
 * A generated answer to a visual question.
 *
 * @param text the answer, word pieces joined, special tokens dropped
 * @param score the beam search's score of it: summed token log-probability over the length penalty; for a clip the
 *     answer-list ranking's: log p(first token) - the answer's summed NLL (higher is better)
 */
public record Answer(String text, double score) {}
