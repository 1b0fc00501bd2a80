package dev.mplug.task.pretrain;

import dev.mplug.nn.ModuleBase;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What masked vision modeling adds to the model for pretraining only: the learned embedding that replaces a masked
 * patch at the ViT's input ({@code mask_embedding} [vision width]) and the linear head that predicts each masked
 * patch's target from the fusion's visual stream ({@code predictor}, hidden -> target width). Its parameters train
 * with the model under the prefix {@link #PREFIX} and are saved in the pretraining checkpoints; a fine-tuned model
 * does not use them.
 */
public final class MaskedVisionHead extends ModuleBase {
  public static final String PREFIX = "mvm_head.";

  private final Tensor maskEmbedding;
  private final LinearImpl predictor;

  public MaskedVisionHead(int visionWidth, int hidden, int targetWidth) {
    this.maskEmbedding = parameter(this, "mask_embedding", torch.randn(visionWidth).mul_(new Scalar(INIT_STD)));
    this.predictor = linear(this, "predictor", hidden, targetWidth, true);
  }

  public Tensor maskEmbedding() {
    return maskEmbedding;
  }

  /** Visual-stream patch tokens [B, P, hidden] -> predicted targets [B, P, target width]. */
  public Tensor predict(Tensor patches) {
    return predictor.forward(patches);
  }
}
