package dev.mplug.task.video;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.model.MPlug;
import dev.mplug.task.vqa.AnswerList;
import dev.mplug.task.vqa.VqaHead;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Video QA inference as the official {@code videoqa_mplug.py} does it, shared by the evaluation and the inference API:
 * each question cleaned by pre_question keeping 50 words (the official test split) and tokenised to
 * {@code maxTokens}, padded to the batch's longest, fused with its clip's frames, and the answer list ranked by
 * {@link VqaHead#rank} (first-token top k, then the full answer likelihood). The answer list stays the caller's.
 */
public final class VideoAnswering {
  /** Words kept of a test question (the official videoqa_dataset's test split). */
  static final int QUESTION_WORDS = 50;

  private final VqaHead head;
  private final BertTokenizer tokenizer;
  private final AnswerList answers;
  private final int k;
  private final int maxTokens;

  /** @param k answers scored in full after the first-token ranking ({@code vqa.answer_list_k}) */
  public VideoAnswering(VqaHead head, BertTokenizer tokenizer, AnswerList answers, int k, int maxTokens) {
    this.head = head;
    this.tokenizer = tokenizer;
    this.answers = answers;
    this.k = k;
    this.maxTokens = maxTokens;
  }

  public MPlug model() {
    return head.model();
  }

  /** The questions as the test loader tokenises them (tensors of the caller's scope). */
  public TokenBatch questions(List<String> questions) {
    return tokenizer.encodeBatch(questions.stream().map(q -> TextCleaning.preQuestion(q, QUESTION_WORDS)).toList(),
        maxTokens, Padding.LONGEST);
  }

  /** Each question's best answers, best first (call in eval mode, without gradients): clips [B, F, 3, R, R]. */
  public VqaHead.Ranking rank(Tensor clips, TokenBatch questions) {
    VqaHead.QuestionStates states = head.encode(clips, questions.idsTensor(), questions.maskTensor());
    return head.rank(states, answers.ids(), answers.mask(), k);
  }

  /** The text of answer {@code index} of the list. */
  public String answer(int index) {
    return answers.answer(index);
  }
}
