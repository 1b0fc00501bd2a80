package dev.mplug.data.loader;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.bytedeco.pytorch.Tensor;

/**
 * Collates {@link Example}s into a {@link Batch}: media stacked by the given function ({@code ImageBatch::toTensor}
 * for images), texts and answers tokenised (padded to the longest of the batch, truncated to the maximum length),
 * the texts themselves ({@link Batch#TEXTS}), answer weights and counts, labels, boxes and ids. Parts that no sample
 * has are left out.
 *
 * <p>Answers are encoded as {@code [CLS] answer [SEP]}; the official VQA code appends an extra "[SEP]" to each answer
 * string before tokenising, which a task that wants it can do in its own preparation.
 */
public final class TaskCollator<I> implements Collator<Example<I>> {
  private final BertTokenizer tokenizer;
  private final int maxTextLength;
  private final int maxAnswerLength;
  private final Function<List<I>, Tensor> stackMedia;

  /**
   * @param stackMedia stacks n decoded media into one tensor with n as its first dimension ({@code [n, 3, H, W]} for
   *     images); with k media per sample the result is viewed as {@code [B, k, ...]}
   */
  public TaskCollator(BertTokenizer tokenizer, int maxTextLength, int maxAnswerLength,
      Function<List<I>, Tensor> stackMedia) {
    this.tokenizer = tokenizer;
    this.maxTextLength = maxTextLength;
    this.maxAnswerLength = maxAnswerLength;
    this.stackMedia = stackMedia;
  }

  @Override
  public void collate(List<Example<I>> samples, Batch.Builder out) {
    int b = samples.size();
    media(samples, out);

    List<String> texts = samples.stream().map(Example::text).toList();
    long withText = texts.stream().filter(Objects::nonNull).count();
    if (withText > 0) {
      if (withText < b) throw new IllegalArgumentException("some samples of the batch have no text");
      TokenBatch t = tokenizer.encodeBatch(texts, maxTextLength, Padding.LONGEST);
      out.tensor(Batch.TEXT_IDS, t.idsTensor());      // [B, T]
      out.tensor(Batch.TEXT_MASK, t.maskTensor());    // [B, T]
      out.strings(Batch.TEXTS, texts);
    }

    if (samples.stream().anyMatch(s -> !s.answers().isEmpty())) {
      List<String> answers = new ArrayList<>();
      List<Double> weights = new ArrayList<>();
      long[] counts = new long[b];
      for (int i = 0; i < b; i++) {
        answers.addAll(samples.get(i).answers());
        weights.addAll(samples.get(i).answerWeights());
        counts[i] = samples.get(i).answers().size();
      }
      TokenBatch a = tokenizer.encodeBatch(answers, maxAnswerLength, Padding.LONGEST);
      float[] w = new float[weights.size()];
      for (int i = 0; i < w.length; i++) w[i] = weights.get(i).floatValue();
      out.tensor(Batch.ANSWER_IDS, a.idsTensor());                   // [N, Ta]
      out.tensor(Batch.ANSWER_MASK, a.maskTensor());                 // [N, Ta]
      out.tensor(Batch.ANSWER_WEIGHTS, Tensors.floats(w, w.length)); // [N]
      out.tensor(Batch.ANSWER_COUNTS, Tensors.longs(counts, b));     // [B]
    }

    if (samples.stream().allMatch(s -> s.label() >= 0)) {
      out.tensor(Batch.LABELS, Tensors.longs(samples.stream().mapToLong(Example::label).toArray(), b));   // [B]
    }
    if (samples.stream().allMatch(s -> s.box() != null)) {
      float[] boxes = new float[b * 4];
      for (int i = 0; i < b; i++) {
        double[] xywh = samples.get(i).box().xywh();
        for (int j = 0; j < 4; j++) boxes[i * 4 + j] = (float) xywh[j];
      }
      out.tensor(Batch.BOXES, Tensors.floats(boxes, b, 4));         // [B, 4]
    }
    if (samples.stream().allMatch(s -> s.id() != null)) {
      out.strings(Batch.IDS, samples.stream().map(Example::id).toList());
    }
  }

  private void media(List<Example<I>> samples, Batch.Builder out) {
    int k = samples.get(0).media().size();
    if (k == 0) return;
    List<I> flat = new ArrayList<>(samples.size() * k);
    for (Example<I> s : samples) {
      if (s.media().size() != k) {
        throw new IllegalArgumentException("samples of one batch have " + k + " and " + s.media().size() + " media");
      }
      flat.addAll(s.media());
    }
    Tensor stacked = stackMedia.apply(flat);                          // [B*k, ...]
    if (k > 1) {
      long[] shape = Tensors.shape(stacked);
      long[] grouped = new long[shape.length + 1];
      grouped[0] = samples.size();
      grouped[1] = k;
      System.arraycopy(shape, 1, grouped, 2, shape.length - 1);
      stacked = stacked.view(grouped);                                 // [B, k, ...]
    }
    out.tensor(Batch.IMAGES, stacked);
  }
}
