package dev.mplug.api;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.task.classify.SentenceClassifier;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * SNLI-VE and NLVR2 as {@code ClassificationEvaluation} does them: each sentence cleaned with pre_caption to
 * {@code maxWords} words and tokenised to {@code maxTokens}, the images resized as every evaluation does
 * ({@link EvalImages}), the head's logits turned into class probabilities.
 */
final class Judge {
  private final SentenceClassifier head;
  private final BertTokenizer tokenizer;
  private final int maxWords;
  private final int maxTokens;

  Judge(SentenceClassifier head, BertTokenizer tokenizer, int maxWords, int maxTokens) {
    this.head = head;
    this.tokenizer = tokenizer;
    this.maxWords = maxWords;
    this.maxTokens = maxTokens;
  }

  /** The sentences tokenised as the evaluation does (a tensor of the caller's scope). */
  TokenBatch sentences(List<String> sentences) {
    return tokenizer.encodeBatch(sentences.stream().map(s -> TextCleaning.preCaption(s, maxWords)).toList(),
        maxTokens, Padding.LONGEST);
  }

  /**
   * The verdict on each sentence (call in eval mode, without gradients).
   *
   * @param images [B, 3, R, R] (SNLI-VE) or image pairs [B, 2, 3, R, R] (NLVR2)
   */
  List<Judgement> judge(Tensor images, TokenBatch sentences) {
    Tensor logits = head.logits(images, sentences.idsTensor(), sentences.maskTensor());    // [B, C]
    float[] p = Tensors.toFloats(torch.softmax(logits, 1));
    List<String> classes = head.classNames();
    int c = classes.size();
    List<Judgement> out = new ArrayList<>(p.length / c);
    for (int i = 0; i < p.length / c; i++) {
      Map<String, Double> probabilities = new LinkedHashMap<>();
      int best = 0;
      for (int k = 0; k < c; k++) {
        probabilities.put(classes.get(k), (double) p[i * c + k]);
        if (p[i * c + k] > p[i * c + best]) best = k;
      }
      out.add(new Judgement(classes.get(best), probabilities));
    }
    return out;
  }
}
