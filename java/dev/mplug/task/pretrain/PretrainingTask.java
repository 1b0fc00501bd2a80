package dev.mplug.task.pretrain;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.loss.FeatureQueue;
import dev.mplug.loss.ItmNegatives;
import dev.mplug.loss.ImageTextContrastive;
import dev.mplug.loss.ImageTextMatching;
import dev.mplug.loss.MaskedLanguageModeling;
import dev.mplug.loss.MaskedVisionModeling;
import dev.mplug.loss.MaskedVisionModeling.Target;
import dev.mplug.loss.PrefixLanguageModeling;
import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.profile.Range;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.Tensors;
import dev.mplug.train.TrainingTask;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * mPLUG pretraining: ITC (momentum encoders, queues, distillation), ITM (hard negatives), MLM (with distillation)
 * and prefix LM, summed with equal weights; optionally masked vision modeling as a fifth objective
 * ({@link MaskedVisionModeling}, weighted by its setting), whose masked images take a second pass through the ViT and
 * the fusion so that ITC, ITM, MLM and prefix LM keep seeing whole images.
 *
 * <p>MLM predicts the masked words from the fusion text stream with the decoder's LM head (the fine-tune
 * checkpoints carry no separate encoder MLM head); its teacher is the momentum fusion stream through the same head.
 * Randomness: libtorch's default generator (masking, hard negatives, dropout; saved in checkpoints) and, for the
 * prefix split, a generator derived from (seed, step), so a resumed run repeats exactly.
 */
public final class PretrainingTask implements TrainingTask<PretrainBatch> {
  private final MPlug online;
  private final MomentumEncoder momentum;
  private final FeatureQueue queue;
  private final BertTokenizer tokenizer;
  private final Objectives objectives;
  private final int maxTokens;
  private final long seed;
  private final MaskedVisionHead mvmHead;   // null without masked vision modeling

  /**
   * @param online a model with every part but MOMENTUM (the twins are a separate model here)
   * @param allGather gathers features across data-parallel ranks before they are enqueued (identity on one process)
   */
  public PretrainingTask(MPlug online, BertTokenizer tokenizer, Objectives objectives, int maxTokens, long seed,
      UnaryOperator<Tensor> allGather) {
    MPlugConfig c = online.config();
    for (Part p : List.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS)) {
      if (!c.has(p)) throw new IllegalArgumentException("pretraining needs the model part " + p);
    }
    if (tokenizer.vocabulary().size() > c.text().vocab()) {
      throw new IllegalArgumentException("the vocabulary has " + tokenizer.vocabulary().size()
          + " entries but the model's text.vocab_size is " + c.text().vocab());
    }
    this.online = online;
    this.momentum = new MomentumEncoder(online,
        new MPlug(c.withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.ITC_ITM_HEADS))),
        objectives.momentum());
    this.momentum.model().eval();
    this.queue = new FeatureQueue(c.embedDim(), objectives.queueSize(), allGather);
    this.tokenizer = tokenizer;
    this.objectives = objectives;
    this.maxTokens = maxTokens;
    this.seed = seed;
    this.mvmHead = objectives.mvm().on() ? new MaskedVisionHead(c.vision().width(), c.text().hidden(),
        objectives.mvm().target() == Target.PIXELS ? 3 * c.vision().patchSize() * c.vision().patchSize()
            : c.text().hidden()) : null;
    online.train(true);
  }

  public MPlug model() {
    return online;
  }

  /** The model's parameters, and the masked-vision head's under {@link MaskedVisionHead#PREFIX} when it is on. */
  @Override
  public Map<String, Tensor> parameters() {
    Map<String, Tensor> out = online.namedParameters();
    if (mvmHead != null) MPlug.namedParameters(mvmHead).forEach((k, v) -> out.put(MaskedVisionHead.PREFIX + k, v));
    return out;
  }

  @Override
  public int batchSize(PretrainBatch batch) {
    return batch.size();
  }

  @Override
  public String configText() {
    return ConfigFile.format(online.config());   // canonical text (parts sorted)
  }

  @Override
  public Map<String, Tensor> losses(PretrainBatch batch, long step) {
    double alpha = objectives.alphaAt(step);
    online.clampTemperature();
    Map<String, Tensor> losses = new LinkedHashMap<>();
    Tensor images = batch.images();
    Tensor ids = batch.ids();
    Tensor mask = batch.mask();
    Tensor vision = online.visionEmbeds(online.visionTokens(images));                    // V0 [B, Nv, H]
    Tensor imageMask = MPlug.imageMask(vision);                                           // [B, Nv]
    Tensor text = online.textEmbeds(ids, mask);                                           // L0 [B, T, H]

    Tensor visionM;
    Tensor imageFeatM;
    Tensor textFeatM;
    MPlug m = momentum.model();
    try (Range r = Range.open("momentum_forward"); NoGradGuard guard = new NoGradGuard()) {
      momentum.update();
      visionM = m.visionEmbeds(m.visionTokens(images));                                   // [B, Nv, H]
      imageFeatM = m.imageFeatures(visionM);                                              // [B, E]
      textFeatM = m.textFeatures(m.textEmbeds(ids, mask));                                // [B, E]
    }

    ImageTextContrastive.Output itc = null;
    if (objectives.itc() || objectives.itm()) {
      try (Range r = Range.open("loss.itc")) {
        Tensor imageFeat = online.imageFeatures(vision);                                  // [B, E]
        Tensor textFeat = online.textFeatures(text);                                      // [B, E]
        itc = ImageTextContrastive.loss(imageFeat, textFeat, imageFeatM, textFeatM, queue, online.temperature(), alpha);
      }
      if (objectives.itc()) losses.put("itc", itc.loss());
    }
    if (objectives.itm()) {
      try (Range r = Range.open("loss.itm")) {
        losses.put("itm", matching(vision, imageMask, text, mask, itc));
      }
    }
    if (objectives.mlm()) {
      try (Range r = Range.open("loss.mlm")) {
        losses.put("mlm", maskedLanguageModeling(ids, mask, vision, imageMask, visionM, alpha));
      }
    }
    if (objectives.prefixLm()) {
      try (Range r = Range.open("loss.prefix_lm")) {
        losses.put("prefix_lm", prefixLanguageModeling(batch.captions(), vision, imageMask, step));
      }
    }
    if (mvmHead != null) {
      try (Range r = Range.open("loss.mvm")) {
        losses.put("mvm", maskedVisionModeling(images, text, mask, visionM));
      }
    }
    if (objectives.itc() || objectives.itm()) queue.enqueue(imageFeatM, textFeatM, null);
    return losses;
  }

  /** ITM over B positives, B (negative image, text) and B (image, negative text) pairs. */
  private Tensor matching(Tensor vision, Tensor imageMask, Tensor text, Tensor mask, ImageTextContrastive.Output itc) {
    ItmNegatives.Indices neg = ItmNegatives.sample(itc.simI2t(), itc.simT2i(), objectives.itmNegatives());
    Tensor negImages = vision.index_select(0, neg.imageForText());                       // [B, Nv, H]
    Tensor negTexts = text.index_select(0, neg.textForImage());                          // [B, T, H]
    Tensor negMask = mask.index_select(0, neg.textForImage());                           // [B, T]
    Tensor allText = torch.cat(new TensorVector(text, text, negTexts), 0);              // [3B, T, H]
    Tensor allMask = torch.cat(new TensorVector(mask, mask, negMask), 0);               // [3B, T]
    Tensor allImages = torch.cat(new TensorVector(vision, negImages, vision), 0);       // [3B, Nv, H]
    Tensor allImageMask = torch.cat(new TensorVector(imageMask, imageMask, imageMask), 0);
    SkipConnectedFusion.Output fused = online.fuse(allText, allMask, allImages, allImageMask);
    return ImageTextMatching.loss(online.itmLogits(fused.text()));                       // [3B, 2] -> []
  }

  private Tensor maskedLanguageModeling(Tensor ids, Tensor mask, Tensor vision, Tensor imageMask, Tensor visionM,
      double alpha) {
    Vocabulary v = tokenizer.vocabulary();
    MaskedLanguageModeling.Masked masked =
        MaskedLanguageModeling.mask(ids, v.size(), v.padId(), v.clsId(), v.maskId(), objectives.maskProbability());
    Tensor text = online.textEmbeds(masked.inputIds(), mask);                            // [B, T, H]
    SkipConnectedFusion.Output fused = online.fuse(text, mask, vision, imageMask);
    Tensor logits = online.decoder().lmLogits(fused.text());                             // [B, T, V]
    Tensor teacher = null;
    if (alpha > 0) {
      try (NoGradGuard guard = new NoGradGuard()) {
        MPlug m = momentum.model();
        Tensor textM = m.textEmbeds(masked.inputIds(), mask);
        SkipConnectedFusion.Output fusedM = m.fuse(textM, mask, visionM, imageMask);
        teacher = online.decoder().lmLogits(fusedM.text());                              // [B, T, V]
      }
    }
    return MaskedLanguageModeling.loss(logits, masked.labels(), teacher, alpha, objectives.distillAxis());
  }

  /**
   * MVM: the image again with masked patches, through the ViT and the fusion with its caption; the linear head reads
   * the fusion's visual stream at the masked patches. Weighted by the setting's weight.
   */
  private Tensor maskedVisionModeling(Tensor images, Tensor text, Tensor mask, Tensor visionM) {
    MaskedVisionSettings settings = objectives.mvm();
    int grid = online.config().vision().grid();
    // drawn on the host from the CPU generator (as the MLM masks: the same on every device), used on the images' one
    Tensor patchMask = ComputeDevice.of(images).to(MaskedVisionModeling.mask(images.size(0), grid,
        settings.maskRatio(), settings.shape()));
    Tensor masked = online.visionEmbeds(online.visionTokens(images, patchMask, mvmHead.maskEmbedding()));
    SkipConnectedFusion.Output fused = online.fuse(text, mask, masked, MPlug.imageMask(masked));
    Tensor patches = fused.image().narrow(1, 1, (long) grid * grid);                      // [B, P, H]
    Tensor targets = settings.target() == Target.PIXELS
        ? MaskedVisionModeling.pixelTargets(images, online.config().vision().patchSize())  // [B, P, 3 p^2]
        : MaskedVisionModeling.featureTargets(visionM);                                    // [B, P, H]
    Tensor loss = MaskedVisionModeling.loss(mvmHead.predict(patches), targets, patchMask);
    return loss.mul(Tensors.scalar(settings.weight()));
  }

  private Tensor prefixLanguageModeling(List<String> captions, Tensor vision, Tensor imageMask, long step) {
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
    List<String> prefixes = new ArrayList<>();
    List<String> targets = new ArrayList<>();
    for (String caption : captions) {
      PrefixLanguageModeling.Split s = PrefixLanguageModeling.split(caption, rng);
      prefixes.add(s.prefix());
      targets.add(s.target());
    }
    TokenBatch p = tokenizer.encodeBatch(prefixes, maxTokens, Padding.LONGEST);
    TokenBatch t = tokenizer.encodeBatch(targets, maxTokens, Padding.LONGEST);
    ComputeDevice device = ComputeDevice.of(vision);   // the splits are tokenised here, on the host
    Tensor prefixIds = device.to(p.idsTensor());
    Tensor prefixMask = device.to(p.maskTensor());
    Tensor text = online.textEmbeds(prefixIds, prefixMask);                              // [B, Tp, H]
    SkipConnectedFusion.Output fused = online.fuse(text, prefixMask, vision, imageMask);
    Tensor[] states = MPlug.questionStates(fused, prefixMask);                           // [B, Nv + Tp, H], mask
    Tensor targetIds = device.to(t.idsTensor());
    Tensor targetMask = device.to(t.maskTensor());
    Tensor logits = online.decoder().forward(targetIds, targetMask, states[0], states[1]); // [B, Tt, V]
    return PrefixLanguageModeling.loss(logits, targetIds, targetMask);
  }

  @Override
  public void afterOptimizerStep(long step) {
    online.clampTemperature();
  }

  @Override
  public Map<String, Double> learningRateScales() {
    return objectives.tempLrScale() == 1.0 ? Map.of() : Map.of("temp", objectives.tempLrScale());
  }

  @Override
  public Map<String, Double> metrics() {
    return Map.of("temp", online.temperature().item_double());
  }

  @Override
  public Map<String, Tensor> stateTensors() {
    Map<String, Tensor> out = new LinkedHashMap<>(momentum.parameters());
    out.put("image_queue", queue.images());
    out.put("text_queue", queue.texts());
    out.put("idx_queue", queue.ids());
    return out;
  }

  @Override
  public Map<String, Long> stateCounters() {
    return Map.of("queue_ptr", queue.pointer());
  }

  @Override
  public void loadState(Map<String, Tensor> tensors, Map<String, Long> counters) {
    Map<String, Tensor> twins = momentum.parameters();
    try (NoGradGuard guard = new NoGradGuard()) {
      for (var e : twins.entrySet()) {
        Tensor src = tensors.get(e.getKey());
        if (src == null) throw new IllegalArgumentException("checkpoint lacks the momentum parameter " + e.getKey());
        e.getValue().copy_(src);
      }
      for (String q : List.of("image_queue", "text_queue", "idx_queue")) {
        if (!tensors.containsKey(q)) throw new IllegalArgumentException("checkpoint lacks " + q);
      }
      queue.images().copy_(tensors.get("image_queue"));
      queue.texts().copy_(tensors.get("text_queue"));
      queue.ids().copy_(tensors.get("idx_queue"));
    }
    queue.seek(counters.getOrDefault("queue_ptr", 0L));
  }

  /**
   * Rough training FLOPs per sample: 2 x (multiply-adds of every linear layer) x tokens through it, forward passes
   * of each objective, backward = 2 x forward for the online passes.
   */
  @Override
  public double flopsPerSample() {
    return PretrainFlops.estimate(online.config(), maxTokens, objectives);
  }

  @Override
  public void close() {
    queue.close();
  }
}
