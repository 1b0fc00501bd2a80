package dev.mplug.task.snlive;

import dev.mplug.data.dataset.SnliVeSample.Entailment;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.classify.ClassifierMlp;
import dev.mplug.task.classify.SentenceClassifier;
import dev.mplug.torch.ComputeDevice;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * mPLUG for visual entailment, as ALBEF's {@code model_ve.ALBEF} (mPLUG's release has no SNLI-VE model; the paper's
 * table implies this one): the hypothesis (text encoder) is fused with the image premise (ViT) by the skip-connected
 * fusion, and an MLP ({@link ClassifierMlp}: Linear(H, H), ReLU, Linear(H, 3)) classifies the fusion text stream's
 * [CLS] state. Classes in the official ids: contradiction 0, neutral 1, entailment 2.
 *
 * <pre>
 * image -> ViT -> V0 [B, Nv, H];  hypothesis -> text encoder -> L0 [B, T, H]
 * (V0, L0) -> fusion -> L [B, T, H] -> L[:, 0] -> cls_head -> logits [B, 3]
 * loss = cross-entropy(logits, label)
 * </pre>
 * Not done: ALBEF's momentum distillation of the targets (alpha 0.4); the loss is the plain cross-entropy.
 */
public final class SnliVeHead implements SentenceClassifier {
  /** The class names by class id. */
  public static final List<String> CLASSES = Arrays.stream(Entailment.values()).map(Entailment::text).toList();

  private final MPlug model;
  private final ClassifierMlp classifier;

  /** Registers {@code cls_head} on {@code model} unless it has one. */
  public SnliVeHead(MPlug model) {
    for (Part p : List.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION)) {
      if (!model.config().has(p)) throw new IllegalArgumentException("snli-ve needs the model part " + p);
    }
    this.model = model;
    this.classifier = ClassifierMlp.attach(model, model.config().text().hidden(), CLASSES.size());
  }

  @Override
  public MPlug model() {
    return model;
  }

  @Override
  public List<String> classNames() {
    return CLASSES;
  }

  /** Images [B, 3, R, R], hypotheses (ids, mask [B, T]) -> logits [B, 3]. */
  @Override
  public Tensor logits(Tensor images, Tensor ids, Tensor mask) {
    if (images.dim() != 4) throw new IllegalArgumentException("snli-ve takes images [B, 3, R, R], got " + images.dim()
        + "-d");
    ComputeDevice device = model.device();
    Tensor keep = device.to(mask);
    Tensor v = model.visionEmbeds(model.visionTokens(device.to(images)));        // V0 [B, Nv, H]
    Tensor l = model.textEmbeds(device.to(ids), keep);                             // L0 [B, T, H]
    Tensor text = model.fuse(l, keep, v, MPlug.imageMask(v)).text();              // L [B, T, H]
    return classifier.forward(text.select(1, 0));                                 // [B, 3]
  }
}
