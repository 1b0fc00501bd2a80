package dev.mplug.task.nlvr2;

import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.nn.Handles;
import dev.mplug.nn.ModuleBase;
import dev.mplug.task.classify.ClassifierMlp;
import dev.mplug.task.classify.SentenceClassifier;
import dev.mplug.torch.ComputeDevice;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * mPLUG for NLVR2: is a statement true of a pair of images (left, right).
 *
 * <p><b>The design, and why.</b> mPLUG's paper reports NLVR2 but its release has no NLVR2 model (only ALBEF's
 * dataset class), so the head is designed here. ALBEF, the paper's template, duplicates every fusion layer into two
 * blocks, the first cross-attending the left image and the second the right one, and needs an extra pretraining step
 * (text assignment) to initialise the second block. That does not carry over to mPLUG's skip-connected fusion: its
 * connected-attention layers attend jointly over the concatenation {@code [V; L]} with a residual on V, so there is no
 * single cross-attention to duplicate, and this project has no text-assignment stage. mPLUG's own multi-image recipe,
 * the video one (every frame through the ViT, the token sequences concatenated as the visual stream), fits the fusion
 * unchanged and keeps its pretrained weights meaningful: the two images' tokens form one visual stream
 * {@code [V_left; V_right]}, so in every layer the statement attends to both images at once and the connected
 * layers let the images' tokens attend to each other. Attention is blind to the order of its keys and each image
 * carries the ViT's own positions, so a learned image-index embedding ({@code nlvr_image_embeddings.weight}
 * [2, H], normal std 0.02, added to every token of the left resp. right image, like BERT's token types) tells left
 * from right, which NLVR2 statements name. The classifier is ALBEF's: Linear(H, H), ReLU, Linear(H, 2) on the fusion
 * text stream's [CLS] state (class 1 = "True"). Cost: the fusion reads 2 Nv visual tokens instead of Nv.
 *
 * <pre>
 * images [B, 2, 3, R, R] -> ViT per image -> V0 [B, 2, Nv, H] + image-index embedding [2, H] -> [B, 2 Nv, H]
 * statement -> text encoder -> L0 [B, T, H]
 * (V, L0) -> fusion -> L [B, T, H] -> L[:, 0] -> cls_head -> logits [B, 2]
 * loss = cross-entropy(logits, label)
 * </pre>
 * Not done: ALBEF's momentum distillation of the targets; the loss is the plain cross-entropy.
 */
public final class Nlvr2Head implements SentenceClassifier {
  /** The class names by class id (the official label strings). */
  public static final List<String> CLASSES = List.of("False", "True");
  /** The image-index embedding's module name on the model. */
  public static final String IMAGE_EMBEDDINGS = "nlvr_image_embeddings";

  private final MPlug model;
  private final ClassifierMlp classifier;
  private final Tensor imageEmbeddings;

  /** Registers {@code cls_head} and {@code nlvr_image_embeddings} on {@code model} unless it has them. */
  public Nlvr2Head(MPlug model) {
    for (Part p : List.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION)) {
      if (!model.config().has(p)) throw new IllegalArgumentException("nlvr2 needs the model part " + p);
    }
    int h = model.config().text().hidden();
    String key = IMAGE_EMBEDDINGS + ".weight";
    if (!model.namedParameters().containsKey(key)) ModuleBase.embedding(model, IMAGE_EMBEDDINGS, 2, h);
    this.model = model;
    this.classifier = ClassifierMlp.attach(model, h, CLASSES.size());
    Map<String, Tensor> params = model.namedParameters();
    this.imageEmbeddings = Handles.own(params.get(key));                            // [2, H]
  }

  @Override
  public MPlug model() {
    return model;
  }

  @Override
  public List<String> classNames() {
    return CLASSES;
  }

  /** Image pairs [B, 2, 3, R, R], statements (ids, mask [B, T]) -> logits [B, 2]. */
  @Override
  public Tensor logits(Tensor images, Tensor ids, Tensor mask) {
    return classifier.forward(fuse(images, ids, mask).select(1, 0));              // [B, 2]
  }

  /** The fusion text stream L [B, T, H] of statements read against both images of each pair. */
  public Tensor fuse(Tensor images, Tensor ids, Tensor mask) {
    if (images.dim() != 5 || images.size(1) != 2) {
      throw new IllegalArgumentException("nlvr2 takes image pairs [B, 2, 3, R, R], got " + images.dim() + "-d");
    }
    long b = images.size(0);
    ComputeDevice device = model.device();
    Tensor keep = device.to(mask);
    Tensor v = model.visionEmbeds(model.visionTokens(device.to(images).flatten(0, 1)));   // [2B, Nv, H]
    long nv = v.size(1);
    long h = v.size(2);
    Tensor pair = v.view(b, 2, nv, h).add(imageEmbeddings.view(1, 2, 1, h));      // [B, 2, Nv, H]
    Tensor visual = pair.reshape(b, 2 * nv, h);                                     // [B, 2 Nv, H]
    Tensor l = model.textEmbeds(device.to(ids), keep);                              // L0 [B, T, H]
    return model.fuse(l, keep, visual, MPlug.imageMask(visual)).text();            // [B, T, H]
  }
}
