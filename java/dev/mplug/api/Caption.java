package dev.mplug.api;

/**
 * A generated caption.
 *
 * @param text the caption, word pieces joined, special tokens dropped
 * @param score the beam search's score of it: summed token log-probability over the length penalty (higher is better)
 */
public record Caption(String text, double score) {}
