package dev.mplug.loss;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * ITC: image-text contrastive loss with momentum encoders, feature queues and momentum distillation (ALBEF's form,
 * which mPLUG pretraining follows).
 *
 * <pre>
 *   keys_t = [t_m | text_queue]            sim_i2t   = v   . keys_t / temp     (online image vs keys)
 *   keys_v = [v_m | image_queue]           sim_t2i   = t   . keys_v / temp
 *   targets_i2t = alpha * softmax(v_m . keys_t / temp) + (1 - alpha) * onehot(diagonal)
 *   loss = (softCE(sim_i2t, targets_i2t) + softCE(sim_t2i, targets_t2i)) / 2
 * </pre>
 * The caller enqueues the (gathered) momentum features afterwards.
 */
public final class ImageTextContrastive {
  /** The loss and the in-batch similarities (online query vs momentum keys), which ITM uses to pick negatives. */
  public record Output(Tensor loss, Tensor simI2t, Tensor simT2i) {}

  private ImageTextContrastive() {}

  /**
   * @param imageFeat [B, D] normalised online image features (CLS after vision_proj)
   * @param textFeat [B, D] normalised online text features
   * @param imageFeatM [B, D] normalised momentum image features
   * @param textFeatM [B, D] normalised momentum text features
   * @param queue the queues ([D, Q] each)
   * @param temp the temperature (0-dim, clamped by the caller to [0.001, 0.5])
   * @param alpha the distillation weight (0 = one-hot targets only)
   */
  public static Output loss(Tensor imageFeat, Tensor textFeat, Tensor imageFeatM, Tensor textFeatM,
      FeatureQueue queue, Tensor temp, double alpha) {
    long b = imageFeat.size(0);
    Tensor textKeys;
    Tensor imageKeys;
    Tensor targetsI2t;
    Tensor targetsT2i;
    try (NoGradGuard guard = new NoGradGuard()) {
      textKeys = torch.cat(new TensorVector(textFeatM.t(), queue.texts().clone()), 1);      // [D, B+Q]
      imageKeys = torch.cat(new TensorVector(imageFeatM.t(), queue.images().clone()), 1);   // [D, B+Q]
      Tensor oneHot = torch.zeros(b, textKeys.size(1)).to(textKeys.device(), torch.ScalarType.Float);
      oneHot.narrow(1, 0, b).fill_diagonal_(new Scalar(1.0));                              // [B, B+Q]
      Tensor simI2tM = imageFeatM.mm(textKeys).div(temp);
      Tensor simT2iM = textFeatM.mm(imageKeys).div(temp);
      targetsI2t = torch.softmax(simI2tM, 1).mul(new Scalar(alpha)).add(oneHot.mul(new Scalar(1 - alpha)));
      targetsT2i = torch.softmax(simT2iM, 1).mul(new Scalar(alpha)).add(oneHot.mul(new Scalar(1 - alpha)));
    }
    Tensor simI2t = imageFeat.mm(textKeys).div(temp);                                       // [B, B+Q]
    Tensor simT2i = textFeat.mm(imageKeys).div(temp);                                       // [B, B+Q]
    Tensor loss = Distillation.softCrossEntropy2d(simI2t, targetsI2t)
        .add(Distillation.softCrossEntropy2d(simT2i, targetsT2i)).div(new Scalar(2.0));
    return new Output(loss, simI2t.narrow(1, 0, b), simT2i.narrow(1, 0, b));
  }
}
