package dev.mplug.task.vqa;

import dev.mplug.model.GenerationConfig;
import dev.mplug.train.proto.VqaOptions;
import java.nio.file.Path;

/**
 * The {@code vqa { }} section of a fine-tuning config, validated: how answers are produced at evaluation time.
 *
 * @param beamSize beams of the answer search (the official inference: 5)
 * @param maxAnswerLength tokens generated at most (10)
 * @param answerList a JSON list of candidate answers to rank instead of generating, or null
 * @param answerListK candidates scored in full after the first-token ranking (the official k_test: 128)
 */
public record VqaSettings(int beamSize, int maxAnswerLength, Path answerList, int answerListK) {
  public static final int DEFAULT_BEAM_SIZE = 5;
  public static final int DEFAULT_MAX_ANSWER_LENGTH = 10;
  public static final int DEFAULT_ANSWER_LIST_K = 128;

  public VqaSettings {
    if (beamSize < 1) throw new IllegalArgumentException("vqa.beam_size must be >= 1, got " + beamSize);
    if (maxAnswerLength < 1) {
      throw new IllegalArgumentException("vqa.max_answer_length must be >= 1, got " + maxAnswerLength);
    }
    if (answerListK < 1) throw new IllegalArgumentException("vqa.answer_list_k must be >= 1, got " + answerListK);
  }

  /** The section's values, defaults where unset; an empty {@code answer_list} means none. */
  public static VqaSettings of(VqaOptions o) {
    Path list = o.hasAnswerList() && !o.getAnswerList().isBlank() ? Path.of(o.getAnswerList()) : null;
    return new VqaSettings(o.hasBeamSize() ? o.getBeamSize() : DEFAULT_BEAM_SIZE,
        o.hasMaxAnswerLength() ? o.getMaxAnswerLength() : DEFAULT_MAX_ANSWER_LENGTH, list,
        o.hasAnswerListK() ? o.getAnswerListK() : DEFAULT_ANSWER_LIST_K);
  }

  /**
   * The beam search of the official VQA inference: starts at [CLS], ends at [SEP] (ids from the vocabulary), at least
   * one token, the model's length penalty.
   */
  public GenerationConfig generation(GenerationConfig model, int clsId, int sepId) {
    return new GenerationConfig(beamSize, 1, maxAnswerLength, clsId, sepId, model.lengthPenaltyAlpha());
  }
}
