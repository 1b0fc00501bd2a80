package dev.mplug.model;

import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.ActivationCheckpoint.Stack;
import dev.mplug.nn.Masks;
import dev.mplug.nn.ModuleBase;
import dev.mplug.profile.Range;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ModuleListImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * mPLUG's skip-connected fusion network ({@code fusion_encoder}): {@code fusion_layers} layers, layer n a
 * {@link ConnectedAttentionLayer} when {@code n > 0 && n % stride_layer == 0}, otherwise an asymmetric
 * {@link CoAttentionLayer}. The long visual sequence thus skips most layers' attention (the paper's efficiency
 * claim). Only executed layers are built, numbered 0..fusion_layers-1 (the official checkpoint's dead leading layers
 * are dropped by the weight mapping).
 */
public final class SkipConnectedFusion extends ModuleBase {
  /** Both streams after the last layer and after every layer (the last entries equal the final streams). */
  public record Output(Tensor image, Tensor text, List<Tensor> imageLayers, List<Tensor> textLayers) {}

  private final List<FusionLayer> layers = new ArrayList<>();
  /** The profiling range of each layer, "fusion.layer0" ..., made once. */
  private final List<String> layerRanges = new ArrayList<>();
  private final int hidden;

  public SkipConnectedFusion(TextConfig c) {
    this(c, LambdaConfig.NONE);
  }

  /** With {@code lambda.fusion()}, the connected-attention layers are {@link LambdaConnectedLayer}s. */
  public SkipConnectedFusion(TextConfig c, LambdaConfig lambda) {
    this.hidden = c.hidden();
    Module encoder = container(this, "encoder");
    ModuleListImpl list = list(encoder, "layer");
    for (int n = 0; n < c.fusionLayers(); n++) {
      layerRanges.add("fusion.layer" + n);
      ModuleBase layer = !c.isConnected(n) ? new CoAttentionLayer(c)
          : lambda.fusion() ? new LambdaConnectedLayer(c, lambda) : new ConnectedAttentionLayer(c);
      list.push_back(layer);
      layers.add((FusionLayer) layer);
    }
  }

  /**
   * @param text L0 [B, T, H] (text encoder output)
   * @param textMask [B, T] 1 = token, 0 = padding
   * @param image V0 [B, Nv, H] (vision tokens at the text width)
   * @param imageMask [B, Nv] 1 = keep
   */
  public Output forward(Tensor text, Tensor textMask, Tensor image, Tensor imageMask) {
    requireShape(text, "fusion_encoder (text stream)", -1, -1, hidden);
    requireShape(image, "fusion_encoder (image stream)", text.size(0), -1, hidden);
    requireShape(textMask, "fusion_encoder (text mask)", text.size(0), text.size(1));
    requireShape(imageMask, "fusion_encoder (image mask)", image.size(0), image.size(1));
    try (Range r = Range.open("fusion"); TensorScope scope = TensorScope.open()) {
      Tensor textAdd = Masks.additive(textMask, Masks.SELF_ATTENTION_MASKED, text);      // [B, 1, 1, T]
      Tensor imageAdd = Masks.additive(imageMask, Masks.CROSS_ATTENTION_MASKED, image);  // [B, 1, 1, Nv]
      List<Tensor> imageLayers = new ArrayList<>();
      List<Tensor> textLayers = new ArrayList<>();
      Tensor v = image;
      Tensor l = text;
      for (int n = 0; n < layers.size(); n++) {
        FusionLayer layer = layers.get(n);
        List<Tensor> s;
        try (Range layerRange = Range.open(layerRanges.get(n))) {
          s = ActivationCheckpoint.run(Stack.FUSION, in -> {
            FusionLayer.Streams out = layer.fuse(in.get(0), in.get(1), in.get(2), in.get(3));
            return List.of(out.image(), out.text());
          }, v, l, imageAdd, textAdd);
        }
        v = s.get(0);
        l = s.get(1);
        // fresh handles (same storage) so that each kept object was created in this scope, even where a
        // co-attention layer hands the input vision stream through
        imageLayers.add(scope.keep(new Tensor(v)));
        textLayers.add(scope.keep(new Tensor(l)));
      }
      if (layers.isEmpty()) return new Output(image, text, imageLayers, textLayers);
      return new Output(imageLayers.getLast(), textLayers.getLast(), imageLayers, textLayers);
    }
  }

  public List<FusionLayer> layers() {
    return List.copyOf(layers);
  }
}
