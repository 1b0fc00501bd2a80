package dev.mplug.task.classify;

import dev.mplug.model.MPlug;
import dev.mplug.nn.Handles;
import dev.mplug.nn.ModuleBase;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * ALBEF's classifier of the fusion output, {@code cls_head = Sequential(Linear(in, H), ReLU, Linear(H, classes))}
 * (H the text width; in = H for SNLI-VE, 2H for NLVR2's two [CLS] states). It is not part of the official mPLUG
 * model, so it is registered on the {@link MPlug} itself as {@code cls_head.0.*} and {@code cls_head.2.*} (ALBEF's
 * names): its weights then train, checkpoint and load with the rest of the model.
 */
public final class ClassifierMlp {
  /** The container name on the model. */
  public static final String NAME = "cls_head";

  private final Tensor w0;
  private final Tensor b0;
  private final Tensor w2;
  private final Tensor b2;

  /** Handles on the model's parameters, owned here (they outlive any scope the classifier is made in). */
  private ClassifierMlp(Map<String, Tensor> p) {
    this.w0 = Handles.own(p.get(NAME + ".0.weight"));
    this.b0 = Handles.own(p.get(NAME + ".0.bias"));
    this.w2 = Handles.own(p.get(NAME + ".2.weight"));
    this.b2 = Handles.own(p.get(NAME + ".2.bias"));
  }

  /**
   * Registers {@code cls_head} on {@code model} (fresh weights: normal std 0.02, zero biases) unless it is there
   * already; either way returns the classifier over the model's own parameters.
   */
  public static ClassifierMlp attach(MPlug model, int in, int classes) {
    Map<String, Tensor> params = model.namedParameters();
    int hidden = model.config().text().hidden();
    if (!params.containsKey(NAME + ".0.weight")) {
      Module head = ModuleBase.container(model, NAME);
      ModuleBase.linear(head, "0", in, hidden, true);
      ModuleBase.linear(head, "2", hidden, classes, true);
      params = model.namedParameters();
    }
    ClassifierMlp mlp = new ClassifierMlp(params);
    if (mlp.w0.size(1) != in || mlp.w2.size(0) != classes) {
      throw new IllegalArgumentException("the model's cls_head maps " + mlp.w0.size(1) + " -> " + mlp.w2.size(0)
          + ", this task needs " + in + " -> " + classes);
    }
    return mlp;
  }

  /** Features [B, in] -> logits [B, classes]. */
  public Tensor forward(Tensor features) {
    Tensor h = torch.relu(torch.linear(features, w0, new TensorOptional(b0)));   // [B, H]
    return torch.linear(h, w2, new TensorOptional(b2));                           // [B, classes]
  }
}
