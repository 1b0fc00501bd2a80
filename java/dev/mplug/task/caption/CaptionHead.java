package dev.mplug.task.caption;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.BeamSearch;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * mPLUG for image captioning (the official {@code model_caption_mplug.MPLUG}; Hugging Face would call it
 * {@code ...ForConditionalGeneration}): the decoder cross-attends the image tokens only, no text encoder and no
 * fusion. Training is teacher forcing with the token-mean cross-entropy; inference is beam search from [CLS] to
 * [SEP] ({@link GenerationConfig}: COCO beam 5, 8 to 25 tokens, GNMT length penalty), with or without the key/value
 * cache; self-critical training re-scores beam hypotheses with {@link #sequenceLogProbs}.
 *
 * <p>With a prompt ("a picture of", the official VATEX setting) the model is trained on {@code [CLS] prompt caption
 * [SEP]} as the official code does, and decoding starts from {@code [CLS] prompt}, the prompt forced rather than
 * generated (the official search starts from [CLS] and must produce the prompt itself); the caption text is what
 * follows the prompt.
 *
 * <pre>
 * images [B, 3, R, R] -> ViT -> ln_post [-> visn_fc -> LayerNorm]      = V0 [B, Nv, H]
 * caption ids [B, T] -> decoder (causal self-attn, cross-attn to V0)   = logits [B, T, V]  (position t scores t + 1)
 * </pre>
 */
public final class CaptionHead {
  /**
   * One teacher-forced pass.
   *
   * @param vitOutput the ViT tokens [B, Nv, vision width]
   * @param visionEmbeds what the decoder reads, V0 [B, Nv, H]
   * @param logits [B, T, V]
   * @param loss the token-mean cross-entropy over the non-padding next tokens (0-dim)
   */
  public record Output(Tensor vitOutput, Tensor visionEmbeds, Tensor logits, Tensor loss) {}

  private final MPlug model;
  private final GenerationConfig generation;
  private final long[] prompt;
  private final UnaryOperator<Tensor> visual;

  /** @param model an mPLUG with at least the VISION and DECODER parts */
  public CaptionHead(MPlug model, GenerationConfig generation) {
    this(model, generation, new long[0]);
  }

  /** @param prompt the token ids decoding starts from after [CLS] (no special tokens; empty for none) */
  public CaptionHead(MPlug model, GenerationConfig generation, long[] prompt) {
    this(model, generation, prompt, null);
  }

  /**
   * A captioner whose decoder reads {@code visual} of the media (video clips: every frame's tokens, VATEX) instead
   * of images [B, 3, R, R] through the ViT (null).
   */
  public CaptionHead(MPlug model, GenerationConfig generation, long[] prompt, UnaryOperator<Tensor> visual) {
    this.model = model;
    this.generation = generation;
    this.prompt = prompt.clone();
    this.visual = visual != null ? visual : images -> model.visionEmbeds(model.visionTokens(images));
    model.decoder();   // fails now, naming the part, when the model has no decoder
  }

  public MPlug model() {
    return model;
  }

  public GenerationConfig generation() {
    return generation;
  }

  /** The prompt's token ids (empty for none). */
  public long[] prompt() {
    return prompt.clone();
  }

  /** The image tokens the decoder reads: images [B, 3, R, R] (or the head's visual media) -> V0 [B, Nv, H]. */
  public Tensor imageStates(Tensor images) {
    return visual.apply(model.device().to(images));
  }

  /** The captioning loss of ids [B, T] (mask [B, T]) over the media's {@link #imageStates}: the training objective. */
  public Tensor loss(Tensor media, Tensor ids, Tensor mask) {
    Tensor v = imageStates(media);
    Tensor targets = ComputeDevice.of(v).to(ids);
    return tokenMeanLoss(logits(v, targets, mask), targets, model.config().text().padTokenId());
  }

  /** Teacher forcing: ids [B, T] ([CLS] caption [SEP] ... [PAD]) and their mask [B, T] over images [B, 3, R, R]. */
  public Output forward(Tensor images, Tensor ids, Tensor mask) {
    ComputeDevice device = model.device();
    Tensor targets = device.to(ids);
    Tensor vit = model.visionTokens(device.to(images));                                   // [B, Nv, W]
    Tensor v = model.visionEmbeds(vit);                                                   // [B, Nv, H]
    Tensor logits = logits(v, targets, mask);                                             // [B, T, V]
    return new Output(vit, v, logits, tokenMeanLoss(logits, targets, model.config().text().padTokenId()));
  }

  /** Decoder logits [B, T, V] of ids [B, T] (mask [B, T] or null) over image tokens [B, Nv, H] (on their device). */
  public Tensor logits(Tensor visionEmbeds, Tensor ids, Tensor mask) {
    ComputeDevice device = ComputeDevice.of(visionEmbeds);
    return model.decoder().forward(device.to(ids), mask == null ? null : device.to(mask), visionEmbeds,
        MPlug.imageMask(visionEmbeds));
  }

  /**
   * The captioning loss: next-token cross-entropy averaged over every non-padding target of the batch (targets equal
   * to {@code padId} are ignored, as the official labels set them to -100). logits [B, T, V], ids [B, T] -> [].
   */
  public static Tensor tokenMeanLoss(Tensor logits, Tensor ids, long padId) {
    try (TensorScope scope = TensorScope.open()) {
      long t = logits.size(1), v = logits.size(2);
      Tensor shifted = logits.narrow(1, 0, t - 1).reshape(-1, v);                          // [B (T-1), V]
      Tensor next = ids.narrow(1, 1, t - 1);                                              // [B, T-1]
      Tensor targets = next.masked_fill(next.eq(new Scalar(padId)), new Scalar(-100)).reshape(-1);
      return scope.keep(torch.cross_entropy_loss(shifted, targets, new TensorOptional(), 1, -100, 0.0)); // mean
    }
  }

  /** Beam search over image tokens V0 [B, Nv, H]: per image the kept hypotheses, best first. */
  public List<List<Hypothesis>> generate(Tensor visionEmbeds, boolean cached) {
    return generate(visionEmbeds, generation, cached);
  }

  /** {@link #generate(Tensor, boolean)} with other decoding settings (self-critical training's beam count). */
  public List<List<Hypothesis>> generate(Tensor visionEmbeds, GenerationConfig g, boolean cached) {
    return BeamSearch.run(model.decoder(), visionEmbeds, MPlug.imageMask(visionEmbeds), g, cached, prompt);
  }

  /**
   * Teacher-forced summed log-probability of each sequence, with gradients: sequence n ({@code [CLS] prompt w1 .. wk}
   * [SEP]?, its first {@code lengths[n]} entries of {@code ids} [N, L]) scores log p(w_i | [CLS] prompt w1 .. w_{i-1},
   * V0) for the generated tokens w_i, i.e. positions 1 + |prompt| .. lengths[n] - 1 (the forced prompt is not scored).
   * Positions past a sequence's length are ignored whatever id they hold (a generated sequence may contain the [PAD]
   * id itself). visionEmbeds [N, Nv, H] (one row per sequence) -> [N].
   */
  public Tensor sequenceLogProbs(Tensor visionEmbeds, Tensor ids, long[] lengths) {
    long n = ids.size(0), l = ids.size(1);
    if (lengths.length != n) throw new IllegalArgumentException(lengths.length + " lengths for " + n + " sequences");
    try (TensorScope scope = TensorScope.open()) {
      long[] keep = new long[(int) (n * l)];
      for (int i = 0; i < n; i++) {
        if (lengths[i] < 1 + prompt.length || lengths[i] > l) {
          throw new IllegalArgumentException("sequence " + i + " has length " + lengths[i] + ", not in ["
              + (1 + prompt.length) + ", " + l + "]");
        }
        Arrays.fill(keep, (int) (i * l), (int) (i * l + lengths[i]), 1L);
      }
      ComputeDevice device = ComputeDevice.of(visionEmbeds);
      Tensor mask = device.to(Tensors.longs(keep, n, l));                                  // [N, L]
      ids = device.to(ids);
      Tensor logits = logits(visionEmbeds, ids, mask);                                     // [N, L, V]
      Tensor logp = torch.log_softmax(logits.narrow(1, 0, l - 1), -1);                     // [N, L-1, V]
      Tensor token = logp.gather(2, ids.narrow(1, 1, l - 1).unsqueeze(2)).squeeze(2);     // [N, L-1]
      Tensor scored = mask.narrow(1, 1, l - 1).clone();                                    // [N, L-1]
      if (prompt.length > 0) scored.narrow(1, 0, prompt.length).fill_(new Scalar(0));      // the forced prompt
      scored = scored.to(token.scalar_type());
      return scope.keep(token.mul(scored).sum(new long[] {1}, false, new ScalarTypeOptional())); // [N]
    }
  }

  /**
   * The caption text of a hypothesis: the ids after [CLS] and the prompt up to the first end token, decoded with
   * special tokens
   * dropped. Ids past the tokenizer's vocabulary (the model's embedding table may have more rows, as model-demo's 1,280
   * for the shapes world's 1,055 words; an untrained model emits them) are dropped like [UNK].
   */
  public String caption(Hypothesis h, BertTokenizer tokenizer) {
    long[] ids = h.ids();
    int from = Math.min(1 + prompt.length, ids.length);
    int end = from;
    while (end < ids.length && ids[end] != generation.endToken()) end++;
    int size = tokenizer.vocabulary().size();
    long unk = tokenizer.vocabulary().unkId();
    return tokenizer.decode(Arrays.stream(ids, from, end).map(id -> id < size ? id : unk)
        .toArray());
  }
}
