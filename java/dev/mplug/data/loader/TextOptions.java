package dev.mplug.data.loader;

import dev.mplug.data.text.TextCleaning;

/**
 * Text preparation settings of the official runs.
 *
 * @param maxCaptionWords words kept by pre_caption (30)
 * @param maxQuestionWords words kept by pre_question (30 in training, 50 at test time)
 * @param addOcr append the OCR tokens to VQA questions ({@code " [SEP] "} + tokens)
 * @param addObjects append the object labels to VQA questions
 * @param randomCaption draw one of several captions per epoch (training) instead of taking the first
 * @param nlvr2Swap NLVR2 training augmentation: swap the two images (and "left"/"right" in the sentence) half the time
 */
public record TextOptions(int maxCaptionWords, int maxQuestionWords, boolean addOcr, boolean addObjects,
    boolean randomCaption, boolean nlvr2Swap) {
  public TextOptions {
    if (maxCaptionWords < 1) throw new IllegalArgumentException("maxCaptionWords must be >= 1, got " + maxCaptionWords);
    if (maxQuestionWords < 1) {
      throw new IllegalArgumentException("maxQuestionWords must be >= 1, got " + maxQuestionWords);
    }
  }

  public static TextOptions training() {
    return new TextOptions(TextCleaning.CAPTION_MAX_WORDS, 30, true, true, true, true);
  }

  public static TextOptions evaluation() {
    return new TextOptions(TextCleaning.CAPTION_MAX_WORDS, 50, true, true, false, false);
  }
}
