package dev.mplug.task.grounding;

import dev.mplug.model.DecoderCache;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.model.TextDecoder;
import dev.mplug.nn.ModuleBase;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Visual grounding on mPLUG (the official {@code model_grounding_mplug.py}): the decoder writes the box of a referring
 * expression as four coordinate tokens ({@link BoxTokens}), cross-attending the fusion output of image and expression
 * as the VQA answer decoder does.
 *
 * <pre>
 * image -> ViT (-> visn_fc) = V0;  expression -> text encoder = L0;  fusion(V0, L0) = (V, L)
 * memory = [V; L], mask = [ones(Nv); expression mask]                                 [B, Nv + T, H]
 * decoder input [unused339] q_cx q_cy q_w q_h, logits + box mask (-10000 off the 337 bin tokens)
 * </pre>
 *
 * <p>Training: token cross-entropy of the four coordinates (teacher forcing), each token weighted, without gradient,
 * by how wrong the argmax box is: its L1 distance to the target coordinate (clamped to [0, 5]) times (1 - GIoU) of
 * the whole box; the loss is the mean over the 4B tokens. So the weights vanish as the predicted box approaches the
 * target. {@link Weights} blends each factor towards 1 (0 = factor off).
 *
 * <p>The released code means this but computes something else: it multiplies the cross-entropy viewed as [B, 1, 4]
 * with the L1 weights [B, 4] and (1 - GIoU) [B, 1], which broadcasts to [B, B, 4], every example's cross-entropy
 * times every example's weights; its mean is {@code mean_k(mean_i CE[i, k] x mean_j w[j, k])}, each coordinate's
 * batch-mean cross-entropy scaled by the batch-mean weight. {@link Weights#officialBroadcast} reproduces that.
 *
 * <p>Inference: greedy, four steps, each the most likely bin token given the tokens so far, with the decoder's
 * key/value cache or, as the reference path, re-running the whole prefix.
 */
public final class GroundingHead {
  /** The steps of decoding: cx, cy, w, h. */
  public static final int STEPS = 4;
  /** The L1 factor is clamped to this (the official {@code clamp(0, 5)}). */
  public static final double MAX_L1 = 5.0;

  /**
   * How much of each weighting factor the token loss uses: a factor {@code f} enters as {@code 1 + weight x (f - 1)},
   * so 1 is the official weighting and 0 turns that factor off (plain cross-entropy when both are 0).
   *
   * @param officialBroadcast weight the batch-mean cross-entropy of each coordinate by the batch-mean weight, as the
   *     released code's broadcast does (class comment), instead of each token by its own weight
   */
  public record Weights(double l1, double giou, boolean officialBroadcast) {
    public static final Weights OFFICIAL = new Weights(1, 1, false);

    public Weights {
      if (!(l1 >= 0 && Double.isFinite(l1))) throw new IllegalArgumentException("grounding.l1_weight must be >= 0");
      if (!(giou >= 0 && Double.isFinite(giou))) {
        throw new IllegalArgumentException("grounding.giou_weight must be >= 0");
      }
    }
  }

  /** What the decoder cross-attends: [V; L] [B, Nv + T, H] and its keep-mask [B, Nv + T] (int64). */
  public record Memory(Tensor states, Tensor mask) {}

  /**
   * One training forward.
   *
   * @param loss the weighted mean token cross-entropy (0-dim)
   * @param logits the masked logits of the four coordinate positions [B, 4, V]
   * @param tokenNll the cross-entropy of each coordinate token [B, 4]
   * @param weights each token's weight [B, 4] (no gradient)
   * @param predicted the argmax box of the teacher-forced logits, normalised (cx, cy, w, h) [B, 4] (no gradient)
   */
  public record Output(Tensor loss, Tensor logits, Tensor tokenNll, Tensor weights, Tensor predicted) {}

  /**
   * A decoded box.
   *
   * @param tokens the four bin tokens [B, 4] (int64)
   * @param boxes the box on the canvas, normalised (cx, cy, w, h) [B, 4] (float32)
   */
  public record Prediction(Tensor tokens, Tensor boxes) {}

  private final MPlug model;
  private final BoxTokens tokens;
  private final Weights weights;

  public GroundingHead(MPlug model, BoxTokens tokens, Weights weights) {
    for (Part p : new Part[] {Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER}) {
      if (!model.config().has(p)) throw new IllegalArgumentException("grounding needs the model part " + p);
    }
    if (tokens.lastBinId() >= model.config().text().vocab()) {
      throw new IllegalArgumentException("the model's text.vocab_size = " + model.config().text().vocab()
          + " does not reach the last box token " + BoxTokens.binToken(BoxTokens.BINS) + " (id " + tokens.lastBinId()
          + ")");
    }
    this.model = model;
    this.tokens = tokens;
    this.weights = weights;
  }

  public MPlug model() {
    return model;
  }

  public BoxTokens tokens() {
    return tokens;
  }

  /** Encodes images [B, 3, R, R] and expressions (ids, mask [B, T]) into the decoder's memory. */
  public Memory memory(Tensor images, Tensor textIds, Tensor textMask) {
    ComputeDevice device = model.device();
    Tensor keep = device.to(textMask);
    Tensor vision = model.visionEmbeds(model.visionTokens(device.to(images)));              // V0 [B, Nv, H]
    Tensor imageMask = MPlug.imageMask(vision);                                              // [B, Nv]
    Tensor text = model.textEmbeds(device.to(textIds), keep);                                // L0 [B, T, H]
    SkipConnectedFusion.Output fused = model.fuse(text, keep, vision, imageMask);
    Tensor states = torch.cat(new TensorVector(fused.image(), fused.text()), 1);            // [B, Nv + T, H]
    Tensor mask = torch.cat(new TensorVector(imageMask, keep.to(torch.ScalarType.Long)), 1); // [B, Nv + T]
    return new Memory(states, mask);
  }

  /** Teacher-forced loss of the target boxes {@code targets}: normalised (cx, cy, w, h) [B, 4] on the canvas. */
  public Output forward(Tensor images, Tensor textIds, Tensor textMask, Tensor targets) {
    ModuleBase.requireShape(targets, "grounding targets (cx, cy, w, h)", images.size(0), STEPS);
    Memory memory = memory(images, textIds, textMask);
    Tensor boxes = ComputeDevice.of(memory.states()).to(targets);
    Tensor targetIds = tokens.encode(boxes);                                                 // [B, 4]
    Tensor input = torch.cat(new TensorVector(start(images.size(0), targetIds), targetIds), 1); // [B, 5]
    Tensor logits = model.decoder().forward(input, null, memory.states(), memory.mask());    // [B, 5, V]
    Tensor masked = logits.narrow(1, 0, STEPS).add(tokens.logitMask(logits.size(2), logits)); // [B, 4, V]
    return loss(masked, targetIds, boxes, tokens, weights);
  }

  /**
   * The weighted token loss of masked logits [B, 4, V] (position k scores coordinate k), their target tokens [B, 4]
   * and the continuous targets [B, 4] the L1 and GIoU weights compare the argmax box with.
   */
  public static Output loss(Tensor logits, Tensor targetIds, Tensor targets, BoxTokens tokens, Weights weights) {
    long b = logits.size(0);
    long v = logits.size(2);
    Tensor nll = torch.cross_entropy_loss(logits.reshape(-1, v), targetIds.reshape(-1), new TensorOptional(), 0, -100,
        0.0).view(b, STEPS);                                                                 // [B, 4]
    Tensor predicted;
    Tensor tokenWeights;
    try (NoGradGuard _ = new NoGradGuard()) {
      predicted = tokens.decode(tokens.argmax(logits));                                      // [B, 4]
      Tensor l1 = predicted.sub(targets).abs().clamp(new ScalarOptional(new Scalar(0.0)),
          new ScalarOptional(new Scalar(MAX_L1)));                                           // [B, 4]
      Tensor giou = GeneralizedIoU.of(GeneralizedIoU.xyxy(predicted), GeneralizedIoU.xyxy(targets)); // [B]
      Tensor oneMinusGiou = giou.neg().add(new Scalar(1.0)).unsqueeze(1);                    // [B, 1]
      tokenWeights = blend(l1, weights.l1()).mul(blend(oneMinusGiou, weights.giou()));       // [B, 4]
    }
    Tensor loss = weights.officialBroadcast()
        ? nll.mean(new long[] {0}, false, new ScalarTypeOptional()).mul(
            tokenWeights.mean(new long[] {0}, false, new ScalarTypeOptional())).mean()         // mean_k of [4]
        : nll.mul(tokenWeights).mean();                                                      // mean of [B, 4]
    return new Output(loss, logits, nll, tokenWeights, predicted);
  }

  /** {@code 1 + weight x (factor - 1)}. */
  private static Tensor blend(Tensor factor, double weight) {
    return factor.mul(new Scalar(weight)).add(new Scalar(1.0 - weight));
  }

  /** Greedy decoding of the boxes of images [B, 3, R, R] and expressions [B, T] (no gradients). */
  public Prediction decode(Tensor images, Tensor textIds, Tensor textMask, boolean cached) {
    try (NoGradGuard _ = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      Prediction p = decode(memory(images, textIds, textMask), cached);
      return new Prediction(scope.keep(p.tokens()), scope.keep(p.boxes()));
    }
  }

  /**
   * Four greedy steps over {@code memory}: with {@code cached} the decoder is fed one new token per step after the
   * first and keeps the earlier keys/values; otherwise the whole prefix is re-run each step (the reference path).
   */
  public Prediction decode(Memory memory, boolean cached) {
    TextDecoder decoder = model.decoder();
    try (NoGradGuard _ = new NoGradGuard(); TensorScope scope = TensorScope.open()) {
      Tensor ids = start(memory.states().size(0), memory.mask());                           // [B, 1]
      try (DecoderCache cache = cached ? decoder.startCache(memory.states(), memory.mask()) : null) {
        Tensor fresh = ids;                                                                  // tokens not yet fed
        for (int step = 0; step < STEPS; step++) {
          Tensor logits = cached ? decoder.step(fresh, cache)                                // [B, V]
              : decoder.forward(ids, null, memory.states(), memory.mask()).select(1, -1);    // [B, V]
          fresh = tokens.argmax(logits).unsqueeze(1);                                        // [B, 1]
          ids = torch.cat(new TensorVector(ids, fresh), 1);                                  // [B, step + 2]
        }
      }
      Tensor boxTokens = ids.narrow(1, 1, STEPS).contiguous();                               // [B, 4]
      return new Prediction(scope.keep(boxTokens), scope.keep(tokens.decode(boxTokens)));
    }
  }

  /** A column of start tokens [B, 1] (int64) on the device of {@code like}. */
  private Tensor start(long batch, Tensor like) {
    return torch.full(new long[] {batch, 1}, new Scalar(tokens.startId()), like.options()).to(torch.ScalarType.Long);
  }
}
