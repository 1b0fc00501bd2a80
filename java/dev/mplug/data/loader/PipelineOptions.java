package dev.mplug.data.loader;

import dev.mplug.data.image.Images;

/**
 * How a {@link Pipelines} loader turns samples into model inputs.
 *
 * @param resolution side of the square images the model reads, in pixels (the grounding canvas too)
 * @param augment training augmentation (RandomResizedCrop, flip, RandAugment; the grounding recipe for grounding)
 *     instead of the plain evaluation resize
 * @param flip with {@code augment}: the random horizontal flip of the image tasks (the official recipes flip; turn it
 *     off where texts say "left" and "right" about the picture, as the shapes world's VQA does; grounding always
 *     flips with the box and swaps the words)
 * @param maxTextLength tokens of a caption, question or sentence, [CLS] and [SEP] included (longer ones truncated)
 * @param maxAnswerLength tokens of a VQA answer, [CLS] and [SEP] included
 * @param videoFrames frames sampled uniformly from each video
 * @param maxPixels images above this many pixels are bad samples (decompression bombs)
 * @param text caption and question cleaning
 */
public record PipelineOptions(int resolution, boolean augment, boolean flip, int maxTextLength, int maxAnswerLength,
    int videoFrames, long maxPixels, TextOptions text) {
  /** Captions of 30 words plus [CLS], [SEP] and a few word pieces. */
  public static final int DEFAULT_MAX_TEXT_LENGTH = 40;
  /** Answers are short; the official beam search generates at most 10 tokens. */
  public static final int DEFAULT_MAX_ANSWER_LENGTH = 10;
  public static final int DEFAULT_VIDEO_FRAMES = 8;

  public PipelineOptions {
    if (resolution < 8 || resolution > 4096) {
      throw new IllegalArgumentException("resolution must be 8..4096 pixels, got " + resolution);
    }
    if (maxTextLength < 2) throw new IllegalArgumentException("maxTextLength must be >= 2, got " + maxTextLength);
    if (maxAnswerLength < 2) {
      throw new IllegalArgumentException("maxAnswerLength must be >= 2, got " + maxAnswerLength);
    }
    if (videoFrames < 1) throw new IllegalArgumentException("videoFrames must be >= 1, got " + videoFrames);
    if (maxPixels < 1) throw new IllegalArgumentException("maxPixels must be >= 1, got " + maxPixels);
    if (text == null) throw new IllegalArgumentException("text options are required");
  }

  /** Training: augmentation with flips, random caption per epoch, the official text limits. */
  public static PipelineOptions training(int resolution) {
    return new PipelineOptions(resolution, true, true, DEFAULT_MAX_TEXT_LENGTH, DEFAULT_MAX_ANSWER_LENGTH,
        DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS, TextOptions.training());
  }

  /** Evaluation: plain resize, first caption, the test-time question length. */
  public static PipelineOptions evaluation(int resolution) {
    return new PipelineOptions(resolution, false, false, DEFAULT_MAX_TEXT_LENGTH, DEFAULT_MAX_ANSWER_LENGTH,
        DEFAULT_VIDEO_FRAMES, Images.DEFAULT_MAX_PIXELS, TextOptions.evaluation());
  }

  public PipelineOptions withFlip(boolean flip) {
    return new PipelineOptions(resolution, augment, flip, maxTextLength, maxAnswerLength, videoFrames, maxPixels, text);
  }

  public PipelineOptions withVideoFrames(int videoFrames) {
    return new PipelineOptions(resolution, augment, flip, maxTextLength, maxAnswerLength, videoFrames, maxPixels, text);
  }

  public PipelineOptions withMaxLengths(int maxTextLength, int maxAnswerLength) {
    return new PipelineOptions(resolution, augment, flip, maxTextLength, maxAnswerLength, videoFrames, maxPixels, text);
  }

  public PipelineOptions withText(TextOptions text) {
    return new PipelineOptions(resolution, augment, flip, maxTextLength, maxAnswerLength, videoFrames, maxPixels, text);
  }
}
