package dev.mplug.task.vqa;

import org.bytedeco.pytorch.Tensor;

/**
 * One VQA training batch: B images with their questions, and all their answers grouped by question (the first
 * {@code answerCounts[0]} rows are question 0's, and so on), each answer tokenised as {@code [CLS] answer [SEP] [SEP]}.
 *
 * @param images [B, 3, R, R] normalised
 * @param questionIds [B, T] int64, questionMask [B, T]
 * @param answerIds [Na, Ta] int64, answerMask [Na, Ta]
 * @param answerCounts [B] int64, answers per question
 * @param answerWeights [Na] float (VQA v2: count / answers; VG: 0.5)
 */
public record VqaBatch(Tensor images, Tensor questionIds, Tensor questionMask, Tensor answerIds, Tensor answerMask,
    Tensor answerCounts, Tensor answerWeights) {
  /** B: the number of questions. */
  public int size() {
    return (int) images.size(0);
  }
}
