package dev.mplug.api;

/**
 * A generated answer to a visual question.
 *
 * @param text the answer, word pieces joined, special tokens dropped
 * @param score the beam search's score of it: summed token log-probability over the length penalty (higher is better)
 */
public record Answer(String text, double score) {}
