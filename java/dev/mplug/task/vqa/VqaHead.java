package dev.mplug.task.vqa;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.BeamSearch;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * mPLUG for visual question answering (the official {@code model_vqa_mplug.MPLUG}): the question is read by the text
 * encoder and fused with the image; the answer decoder cross-attends the fused states {@code [V; L]} and either
 * scores given answers (teacher forcing: training, and ranking an answer list) or generates one by beam search.
 *
 * <pre>
 * image, question -> ViT, text encoder -> fusion -> (V, L) -> states [V; L], mask [ones; question mask]
 * answers "[CLS] a [SEP] [SEP]" (each answer string + "[SEP]", as the official loader) -> decoder -> logits
 * loss = sum over answers of weight x (summed next-token NLL of the answer) / questions
 * </pre>
 */
public final class VqaHead {
  /**
   * What the answer decoder reads for each question: the fusion output {@code [V; L]} [B, Nv + T, H] and its keep-mask
   * {@code [ones(Nv); question mask]} [B, Nv + T].
   */
  public record QuestionStates(Tensor states, Tensor mask) {
    /** The states of a fusion output and the question mask it was computed with. */
    public static QuestionStates of(SkipConnectedFusion.Output fused, Tensor questionMask) {
      Tensor[] s = MPlug.questionStates(fused, questionMask);
      return new QuestionStates(s[0], s[1]);
    }

    public int questions() {
      return (int) states.size(0);
    }
  }

  /**
   * Teacher forcing over a batch's answers.
   *
   * @param logits decoder logits [Na, Ta, V] (position t scores answer token t + 1)
   * @param answerNll summed next-token NLL of each answer [Na] (padding targets skipped)
   * @param loss {@code sum(weights x answerNll) / B} []
   */
  public record Output(Tensor logits, Tensor answerNll, Tensor loss) {}

  /**
   * An answer list ranked for each question, best first.
   *
   * @param candidates per question the indices of its top-k candidates in the answer list, best first
   * @param scores their log-probabilities as the official ranking sums them: log p(first token) - NLL(answer)
   */
  public record Ranking(int[][] candidates, float[][] scores) {
    /** The index of the best candidate of question {@code q}. */
    public int best(int q) {
      return candidates[q][0];
    }
  }

  private final MPlug model;
  private final long padId;

  private final UnaryOperator<Tensor> visual;

  /** @param padId the [PAD] id: answer targets equal to it are not scored */
  public VqaHead(MPlug model, long padId) {
    this(model, padId, null);
  }

  /**
   * A head whose visual stream V0 [B, N, H] is {@code visual} of the media (video clips: every frame's tokens);
   * null = images [B, 3, R, R] through the ViT.
   */
  public VqaHead(MPlug model, long padId, UnaryOperator<Tensor> visual) {
    this.model = model;
    this.padId = padId;
    this.visual = visual != null ? visual : images -> model.visionEmbeds(model.visionTokens(images));
  }

  public MPlug model() {
    return model;
  }

  /**
   * Image and question through the encoders and the fusion: images [B, 3, R, R] (or the head's visual media),
   * question ids and mask [B, T].
   */
  public QuestionStates encode(Tensor images, Tensor questionIds, Tensor questionMask) {
    ComputeDevice device = model.device();
    Tensor ids = device.to(questionIds);
    Tensor mask = device.to(questionMask);
    Tensor v = visual.apply(device.to(images));                                          // V0 [B, Nv, H]
    Tensor l = model.textEmbeds(ids, mask);                                              // L0 [B, T, H]
    return QuestionStates.of(model.fuse(l, mask, v, MPlug.imageMask(v)), mask);
  }

  /**
   * Teacher-forced answers and the VQA loss.
   *
   * @param answerIds [Na, Ta] int64, the answers of question 0 first, then those of question 1, ...
   * @param answerMask [Na, Ta] (1 = token), or null for no padding
   * @param answerCounts [B] int64: answers per question (sums to Na)
   * @param answerWeights [Na] float
   */
  public Output forward(QuestionStates q, Tensor answerIds, Tensor answerMask, Tensor answerCounts,
      Tensor answerWeights) {
    if (answerWeights.size(0) != answerIds.size(0)) {
      throw new IllegalArgumentException("answer_weights has " + answerWeights.size(0) + " entries but answer_ids has "
          + answerIds.size(0) + " rows");
    }
    ComputeDevice device = ComputeDevice.of(q.states());
    Tensor ids = device.to(answerIds);
    Tensor logits = answerLogits(q, ids, answerMask, answerCounts);                      // [Na, Ta, V]
    Tensor nll = sequenceNll(logits, ids, padId);                                        // [Na]
    return new Output(logits, nll, loss(nll, device.to(answerWeights), q.questions()));
  }

  /**
   * Teacher-forced decoder logits over all answers: answer a of question q cross-attends question q's states.
   *
   * @param answerCounts int64 [B]: answers per question (the answers are grouped by question, in order)
   * @return [Na, Ta, V]
   */
  public Tensor answerLogits(QuestionStates q, Tensor answerIds, Tensor answerMask, Tensor answerCounts) {
    if (answerCounts.dim() != 1 || answerCounts.size(0) != q.questions()) {
      throw new IllegalArgumentException("answer_counts must have one entry per question (" + q.questions()
          + "), got shape " + Tensors.shapeString(answerCounts));
    }
    long total = answerCounts.sum().item_long();
    if (total != answerIds.size(0)) {
      throw new IllegalArgumentException("answer_counts sums to " + total + " but answer_ids has " + answerIds.size(0)
          + " rows");
    }
    try (TensorScope scope = TensorScope.open()) {
      ComputeDevice device = ComputeDevice.of(q.states());
      Tensor counts = device.to(answerCounts);
      Tensor states = repeatRows(q.states(), counts);                                    // [Na, M, H]
      Tensor mask = repeatRows(q.mask(), counts);                                        // [Na, M]
      return scope.keep(model.decoder().forward(device.to(answerIds), answerMask == null ? null
          : device.to(answerMask), states, mask));
    }
  }

  /**
   * Per-answer summed next-token NLL: position t scores ids[t + 1]; targets equal to {@code padId} are skipped.
   * logits [N, T, V], ids [N, T] -> [N].
   */
  public static Tensor sequenceNll(Tensor logits, Tensor ids, long padId) {
    try (TensorScope scope = TensorScope.open()) {
      long n = logits.size(0), t = logits.size(1), v = logits.size(2);
      Tensor shifted = logits.narrow(1, 0, t - 1).reshape(-1, v);                       // [N (T-1), V]
      Tensor next = ids.narrow(1, 1, t - 1);                                             // [N, T-1]
      Tensor targets = next.masked_fill(next.eq(new Scalar(padId)), new Scalar(-100)).reshape(-1); // [N (T-1)]
      Tensor nll = torch.cross_entropy_loss(shifted, targets, new TensorOptional(), 0, -100, 0.0); // no reduction
      return scope.keep(nll.view(n, t - 1).sum(new long[] {1}, false, new ScalarTypeOptional()));
    }
  }

  /** The official VQA loss: {@code sum(weights x answer NLL) / questions}. */
  public static Tensor loss(Tensor answerNll, Tensor answerWeights, long questions) {
    return answerNll.mul(answerWeights).sum().div(new Scalar(questions));
  }

  /**
   * Beam search over the vocabulary for every question (the official inference), with or without the decoder's
   * key/value cache (the same hypotheses either way).
   *
   * @return per question its hypotheses, best first
   */
  public List<List<Hypothesis>> generate(QuestionStates q, GenerationConfig g, boolean cached) {
    return BeamSearch.run(model.decoder(), q.states(), q.mask(), g, cached);
  }

  /**
   * The best hypothesis of each question as text: [CLS], [SEP] and [PAD] dropped, word pieces joined (the official
   * {@code decode(...).replace("[SEP]", "")...strip()}). A model may have more embeddings than the vocabulary has
   * tokens (model-demo's 1280 for a smaller shapes vocabulary); an id past the vocabulary reads "[UNK]".
   */
  public static List<String> answers(List<List<Hypothesis>> hypotheses, BertTokenizer tokenizer) {
    List<String> out = new ArrayList<>(hypotheses.size());
    for (List<Hypothesis> h : hypotheses) out.add(h.isEmpty() ? "" : decode(h.get(0).ids(), tokenizer));
    return out;
  }

  private static String decode(long[] ids, BertTokenizer tokenizer) {
    int size = tokenizer.vocabulary().size();
    StringBuilder text = new StringBuilder();
    int from = 0;
    for (int i = 0; i <= ids.length; i++) {
      if (i < ids.length && ids[i] < size) continue;
      String known = tokenizer.decode(Arrays.copyOfRange(ids, from, i));
      if (!known.isEmpty()) text.append(text.isEmpty() ? "" : " ").append(known);
      if (i < ids.length) text.append(text.isEmpty() ? "" : " ").append(Vocabulary.UNK);
      from = i + 1;
    }
    return text.toString();
  }

  /**
   * The official {@code rank_answer}: every candidate's first answer token is scored by the decoder after [CLS]; the
   * {@code k} most probable candidates (fewer when the list is shorter) are scored in full by teacher forcing, and
   * ranked by log p(first token) - summed NLL (the official sum, in which the first token counts twice).
   *
   * @param candidateIds [A, Ta] int64 the answer list tokenised as training answers ({@code [CLS] a [SEP] [SEP]})
   * @param candidateMask [A, Ta]
   */
  public Ranking rank(QuestionStates q, Tensor candidateIds, Tensor candidateMask, int k) {
    if (k < 1) throw new IllegalArgumentException("answer_list_k must be >= 1, got " + k);
    if (candidateIds.size(1) < 2) throw new IllegalArgumentException("answer list ids need [CLS] and a first token");
    int b = q.questions();
    int top = (int) Math.min(k, candidateIds.size(0));
    int[][] order = new int[b][];
    float[][] scores = new float[b][];
    try (TensorScope _ = TensorScope.open()) {
      ComputeDevice device = ComputeDevice.of(q.states());
      candidateIds = device.to(candidateIds);                                            // the list lives on the host
      candidateMask = device.to(candidateMask);
      Tensor start = candidateIds.narrow(0, 0, 1).narrow(1, 0, 1).repeat(b, 1);          // [B, 1] the [CLS] id
      Tensor first = model.decoder().forward(start, null, q.states(), q.mask()).select(1, 0); // [B, V]
      Tensor firstProb = torch.softmax(first, 1).index_select(1, candidateIds.select(1, 1));  // [B, A]
      T_TensorTensor_T topk = firstProb.topk(top, 1, true, true);                        // [B, k] each
      for (int i = 0; i < b; i++) {
        try (TensorScope _ = TensorScope.open()) {
          Tensor picked = topk.get1().select(0, i);                                      // [k]
          Tensor ids = candidateIds.index_select(0, picked);                             // [k, Ta]
          Tensor mask = candidateMask.index_select(0, picked);                           // [k, Ta]
          Tensor states = q.states().narrow(0, i, 1).expand(top, -1, -1);                // [k, M, H]
          Tensor statesMask = q.mask().narrow(0, i, 1).expand(top, -1);                  // [k, M]
          Tensor nll = sequenceNll(model.decoder().forward(ids, mask, states, statesMask), ids, padId); // [k]
          Tensor score = topk.get0().select(0, i).log().sub(nll);                        // [k]
          T_TensorTensor_T sorted = score.sort(0, true);
          long[] rerank = Tensors.toLongs(sorted.get1());
          long[] candidates = Tensors.toLongs(picked);
          order[i] = new int[top];
          for (int j = 0; j < top; j++) order[i][j] = (int) candidates[(int) rerank[j]];
          scores[i] = Tensors.toFloats(sorted.get0());
        }
      }
    }
    return new Ranking(order, scores);
  }

  /** Row b of {@code x} repeated counts[b] times: [B, ...] -> [sum(counts), ...]. */
  private static Tensor repeatRows(Tensor x, Tensor counts) {
    return x.repeat_interleave(counts, new LongOptional(0), new LongOptional());
  }
}
