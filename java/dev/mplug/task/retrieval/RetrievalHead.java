package dev.mplug.task.retrieval;

import dev.mplug.loss.ItmNegatives;
import dev.mplug.loss.ImageTextMatching;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.loss.Distillation;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * mPLUG for image-text retrieval (the official {@code model_retrieval_mplug.MPLUG}, "ForImageTextRetrieval" in
 * Hugging Face's words): the two encoders give ITC features for every image and text, and the fusion network with
 * {@code itm_head} scores a pair as matched or not.
 *
 * <pre>
 * training:   ITC over the in-batch similarities, multi-positive targets (captions of one image are all positives)
 *             ITM over B positives, B (hard negative image, text), B (image, hard negative text)
 * inference:  ITC similarities pick each query's top-k candidates, the ITM "match" logit re-ranks them
 *             ({@link RetrievalRanking})
 * </pre>
 * Unlike the official fine-tuning this head has no momentum encoders, queue or distillation: the contrastive
 * negatives are the batch's own (see {@link #losses}).
 */
public final class RetrievalHead {
  /** Every step of one forward over aligned pairs (image i with text i); the parity harness checks them all. */
  public record Output(Tensor vitOutput, Tensor visionEmbeds, Tensor textEmbeds, Tensor imageFeatures,
      Tensor textFeatures, Tensor simI2t, Tensor simT2i, SkipConnectedFusion.Output fused, Tensor itmLogits) {}

  /** The two training losses of one batch (unweighted). */
  public record Losses(Tensor itc, Tensor itm) {}

  /** The image side of a retrieval index: V0 [N, Nv, H] (ITM reads it) and the normalised ITC features [N, E]. */
  public record Images(Tensor embeds, Tensor features) {
    public int count() {
      return (int) features.size(0);
    }
  }

  /** The text side: L0 [M, T, H], its keep-mask [M, T] and the normalised ITC features [M, E]. */
  public record Texts(Tensor embeds, Tensor mask, Tensor features) {
    public int count() {
      return (int) features.size(0);
    }
  }

  /** The parts this head reads. */
  public static final List<Part> PARTS = List.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.ITC_ITM_HEADS);

  private final MPlug model;
  private final Function<Tensor, Images> visual;

  /** The image-text head: {@link #images} reads images [N, 3, R, R]. */
  public RetrievalHead(MPlug model) {
    this(model, null);
  }

  /**
   * A head whose visual side is {@code visual} (media -> embeddings and ITC features), e.g. video clips through the
   * frames' concatenated tokens; null = images.
   */
  public RetrievalHead(MPlug model, Function<Tensor, Images> visual) {
    for (Part p : PARTS) {
      if (!model.config().has(p)) throw new IllegalArgumentException("retrieval needs the model part " + p);
    }
    this.model = model;
    this.visual = visual != null ? visual : this::encodeImages;
  }

  public MPlug model() {
    return model;
  }

  /** The visual inputs (images [N, 3, R, R], or what the head's visual side reads) -> embeddings and ITC features. */
  public Images images(Tensor media) {
    return visual.apply(model.device().to(media));
  }

  /**
   * {@code n} media through the visual side, {@code batch} at a time, into one index (call in eval mode, without
   * gradients): {@code load.apply(start, count)} gives items start .. start + count - 1 as one batch tensor.
   */
  public Images images(int n, int batch, BiFunction<Integer, Integer, Tensor> load) {
    ComputeDevice device = model.device();
    Tensor embeds = null;
    Tensor features = null;
    for (int start = 0; start < n; start += batch) {
      int b = Math.min(batch, n - start);
      try (TensorScope scope = TensorScope.open()) {
        Images part = images(load.apply(start, b));
        if (embeds == null) {
          embeds = scope.keep(device.empty(n, part.embeds().size(1), part.embeds().size(2)));  // [N, Nv, H]
          features = scope.keep(device.empty(n, part.features().size(1)));                    // [N, E]
        }
        embeds.narrow(0, start, b).copy_(part.embeds());
        features.narrow(0, start, b).copy_(part.features());
      }
    }
    return new Images(embeds, features);
  }

  private Images encodeImages(Tensor images) {
    Tensor v = model.visionEmbeds(model.visionTokens(images));                   // [N, Nv, H]
    return new Images(v, model.imageFeatures(v));                                  // [N, E]
  }

  /** Token ids and keep-mask [M, T] -> their embeddings and ITC features. */
  public Texts texts(Tensor ids, Tensor mask) {
    ComputeDevice device = model.device();
    Tensor keep = device.to(mask);
    Tensor l = model.textEmbeds(device.to(ids), keep);                             // [M, T, H]
    return new Texts(l, keep, model.textFeatures(l));                              // [M, E]
  }

  /**
   * Every text of {@code tokens} through the text encoder, {@code batch} at a time, into one index (call in eval
   * mode, without gradients): embeddings [M, T, H], the mask and ITC features [M, E].
   */
  public Texts texts(TokenBatch tokens, int batch) {
    ComputeDevice device = model.device();
    Tensor ids = device.to(tokens.idsTensor());                                    // [M, T]
    Tensor mask = device.to(tokens.maskTensor());                                  // [M, T]
    int m = (int) ids.size(0);
    Tensor embeds = null;
    Tensor features = null;
    for (int start = 0; start < m; start += batch) {
      int b = Math.min(batch, m - start);
      try (TensorScope scope = TensorScope.open()) {
        Texts part = texts(ids.narrow(0, start, b), mask.narrow(0, start, b));
        if (embeds == null) {
          embeds = scope.keep(device.empty(m, part.embeds().size(1), part.embeds().size(2)));  // [M, T, H]
          features = scope.keep(device.empty(m, part.features().size(1)));                    // [M, E]
        }
        embeds.narrow(0, start, b).copy_(part.embeds());
        features.narrow(0, start, b).copy_(part.features());
      }
    }
    return new Texts(embeds, mask, features);
  }

  /** The forward of aligned pairs: image i [B, 3, R, R] with text i [B, T]. */
  public Output forward(Tensor images, Tensor ids, Tensor mask) {
    ComputeDevice device = model.device();
    Tensor keep = device.to(mask);
    Tensor vit = model.visionTokens(device.to(images));                            // [B, Nv, W]
    Tensor v = model.visionEmbeds(vit);                                            // [B, Nv, H]
    Tensor l = model.textEmbeds(device.to(ids), keep);                             // [B, T, H]
    Tensor imageFeat = model.imageFeatures(v);                                     // [B, E]
    Tensor textFeat = model.textFeatures(l);                                       // [B, E]
    SkipConnectedFusion.Output fused = model.fuse(l, keep, v, MPlug.imageMask(v));
    return new Output(vit, v, l, imageFeat, textFeat, model.similarity(imageFeat, textFeat),
        model.similarity(textFeat, imageFeat), fused, model.itmLogits(fused.text()));
  }

  /** ITM logits [P, 2] of pairs given row by row: V0 [P, Nv, H] with L0 [P, T, H] (mask [P, T]). */
  public Tensor matchLogits(Tensor visionEmbeds, Tensor textEmbeds, Tensor textMask) {
    SkipConnectedFusion.Output fused = model.fuse(textEmbeds, textMask, visionEmbeds, MPlug.imageMask(visionEmbeds));
    return model.itmLogits(fused.text());                                          // [P, 2]
  }

  /** The "match" logit (class 1) of each pair [P]: the re-ranking score of the official inference. */
  public Tensor matchScores(Tensor visionEmbeds, Tensor textEmbeds, Tensor textMask) {
    return matchLogits(visionEmbeds, textEmbeds, textMask).select(1, 1);
  }

  /**
   * The match scores of the pairs (image row {@code imageRows[p]} of {@code visionEmbeds}, text row
   * {@code textRows[p]} of {@code texts}), read back to the host: the re-ranking step of retrieval inference (call in
   * eval mode, without gradients). The row indices go to the embeddings' device.
   */
  public float[] pairScores(Tensor visionEmbeds, long[] imageRows, Texts texts, long[] textRows) {
    try (TensorScope scope = TensorScope.open()) {
      ComputeDevice device = ComputeDevice.of(visionEmbeds);
      Tensor im = device.to(Tensors.longs(imageRows, imageRows.length));
      Tensor tx = device.to(Tensors.longs(textRows, textRows.length));
      return Tensors.toFloats(matchScores(visionEmbeds.index_select(0, im),            // [P, Nv, H]
          texts.embeds().index_select(0, tx), texts.mask().index_select(0, tx)));     // [P, T, H], [P, T] -> [P]
    }
  }

  /**
   * ITC and ITM of a training batch (call in train mode). Pairs of the same image are positives for ITC and never
   * drawn as ITM negatives.
   *
   * @param images [B, 3, R, R]; ids, mask [B, T]
   * @param imageIds [B] int64: which image each pair shows (captions of one image share it)
   */
  public Losses losses(Tensor images, Tensor ids, Tensor mask, Tensor imageIds) {
    Images v = images(images);
    Texts l = texts(ids, mask);
    Tensor pairsOf = model.device().to(imageIds);
    Tensor simI2t = model.similarity(v.features(), l.features());                  // [B, B]
    Tensor simT2i = model.similarity(l.features(), v.features());                  // [B, B]
    Tensor itc = contrastiveLoss(simI2t, simT2i, pairsOf);
    ItmNegatives.Indices neg = RetrievalNegatives.sample(simI2t, simT2i, pairsOf);
    Tensor negImages = v.embeds().index_select(0, neg.imageForText());            // [B, Nv, H]
    Tensor negTexts = l.embeds().index_select(0, neg.textForImage());             // [B, T, H]
    Tensor negMask = l.mask().index_select(0, neg.textForImage());                 // [B, T]
    Tensor allImages = torch.cat(new TensorVector(v.embeds(), negImages, v.embeds()), 0);   // [3B, Nv, H]
    Tensor allTexts = torch.cat(new TensorVector(l.embeds(), l.embeds(), negTexts), 0);     // [3B, T, H]
    Tensor allMask = torch.cat(new TensorVector(l.mask(), l.mask(), negMask), 0);            // [3B, T]
    Tensor itm = ImageTextMatching.loss(matchLogits(allImages, allTexts, allMask));          // [3B, 2] -> []
    return new Losses(itc, itm);
  }

  /**
   * In-batch ITC with several positives per row: the target of row i is uniform over the pairs showing image i's
   * image, {@code (softCE(sim_i2t, targets) + softCE(sim_t2i, targets)) / 2}.
   *
   * @param simI2t [B, B] image-to-text similarities, already divided by the temperature
   * @param simT2i [B, B] text-to-image similarities
   * @param imageIds [B] int64, which image each pair shows
   */
  public static Tensor contrastiveLoss(Tensor simI2t, Tensor simT2i, Tensor imageIds) {
    Tensor targets;
    try (NoGradGuard guard = new NoGradGuard()) {
      targets = positiveTargets(imageIds).to(simI2t.scalar_type());                  // [B, B]
    }
    return Distillation.softCrossEntropy2d(simI2t, targets).add(Distillation.softCrossEntropy2d(simT2i, targets))
        .div(new Scalar(2.0));
  }

  /** The same-image indicator [B, B] (float) normalised to sum 1 per row. */
  public static Tensor positiveTargets(Tensor imageIds) {
    if (imageIds.dim() != 1) throw new IllegalArgumentException("image ids must be [B], got " + Tensors.shapeString(imageIds));
    Tensor ids = imageIds.view(-1, 1);                                             // [B, 1]
    Tensor same = ids.eq(ids.t()).to(torch.ScalarType.Float);                       // [B, B]
    return same.div(same.sum(new long[] {1}, true, new ScalarTypeOptional()));                 // [B, B]
  }
}
