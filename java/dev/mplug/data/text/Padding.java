package dev.mplug.data.text;

/** How a batch of encodings is padded (Hugging Face's {@code padding='longest'} / {@code 'max_length'}). */
public enum Padding {
  /** To the longest sequence of the batch (never past the maximum length). */
  LONGEST,
  /** Always to the maximum length. */
  MAX_LENGTH
}
