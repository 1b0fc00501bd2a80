package dev.mplug.task.classify;

import dev.mplug.model.MPlug;
import dev.mplug.torch.ComputeDevice;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A head that reads images and a sentence through mPLUG and classifies the pair (SNLI-VE: the image entails,
 * contradicts or leaves open the sentence; NLVR2: the sentence is true or false of two images). Trained with the
 * cross-entropy of its logits, as ALBEF's VE and NLVR2 models are.
 */
public interface SentenceClassifier {
  /**
   * One forward over a batch.
   *
   * @param logits [B, C]
   * @param loss the mean cross-entropy against the labels [] (null when no labels were given)
   */
  record Output(Tensor logits, Tensor loss) {}

  MPlug model();

  /** The classes' names, by class id (what the evaluation writes as predictions). */
  List<String> classNames();

  /**
   * Class logits [B, C] of sentences (ids, keep-mask [B, T]) about images: [B, 3, R, R] for one image per sentence,
   * [B, k, 3, R, R] for k.
   */
  Tensor logits(Tensor images, Tensor ids, Tensor mask);

  /** Logits and, with {@code labels} (int64 [B], class ids), their mean cross-entropy. */
  default Output forward(Tensor images, Tensor ids, Tensor mask, Tensor labels) {
    Tensor logits = logits(images, ids, mask);
    if (labels == null) return new Output(logits, null);
    if (labels.dim() != 1 || labels.size(0) != logits.size(0)) {
      throw new IllegalArgumentException("labels must be [" + logits.size(0) + "], got " + labels.dim() + "-d with "
          + labels.size(0) + " rows");
    }
    Tensor targets = ComputeDevice.of(logits).to(labels);
    return new Output(logits, torch.cross_entropy_loss(logits, targets, new TensorOptional(), 1, -100, 0.0));
  }
}
