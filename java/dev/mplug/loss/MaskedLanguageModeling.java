package dev.mplug.loss;

import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * MLM: BERT masking of the caption (15% of the tokens, never [PAD] or [CLS]; of those 80% -> [MASK], 10% -> a random
 * id, 10% unchanged), predicted from the fusion text stream, with momentum distillation:
 * {@code (1 - alpha) * CE(logits, labels) + alpha * softCE(logits, softmax(momentum logits))} on the masked positions.
 */
public final class MaskedLanguageModeling {
  /** The masked input ids and the labels (-100 except at masked positions, where the original id). */
  public record Masked(Tensor inputIds, Tensor labels) {}

  public static final double MASK_PROBABILITY = 0.15;

  private MaskedLanguageModeling() {}

  /**
   * @param ids [B, T] int64 token ids
   * @param vocabSize random replacements are drawn from [0, vocabSize)
   * @param padId never masked; clsId never masked; maskId the [MASK] token
   */
  public static Masked mask(Tensor ids, long vocabSize, long padId, long clsId, long maskId, double probability) {
    // the draws come from the CPU generator wherever ids live (the same masks on every device), then move to ids
    try (NoGradGuard guard = new NoGradGuard()) {
      Tensor probs = torch.full(Tensors.shape(ids), new Scalar(probability));
      Tensor masked = torch.bernoulli(probs, new GeneratorOptional()).to(ids.device(), torch.ScalarType.Bool); // [B, T]
      masked = masked.logical_and(ids.ne(new Scalar(padId))).logical_and(ids.ne(new Scalar(clsId)));
      Tensor labels = ids.masked_fill(masked.logical_not(), new Scalar(-100));
      Tensor replaced = torch.bernoulli(torch.full(Tensors.shape(ids), new Scalar(0.8)),
          new GeneratorOptional()).to(ids.device(), torch.ScalarType.Bool).logical_and(masked);
      Tensor input = ids.masked_fill(replaced, new Scalar(maskId));
      Tensor random = torch.bernoulli(torch.full(Tensors.shape(ids), new Scalar(0.5)),
          new GeneratorOptional()).to(ids.device(), torch.ScalarType.Bool).logical_and(masked)
          .logical_and(replaced.logical_not());
      Tensor words = torch.randint(vocabSize, Tensors.shape(ids)).to(ids.device(), torch.ScalarType.Long);
      input = input.where(random.logical_not(), words);
      return new Masked(input, labels);
    }
  }

  /**
   * @param logits [B, T, V] online predictions
   * @param labels [B, T] (-100 = not predicted)
   * @param momentumLogits [B, T, V] or null (no distillation)
   * @param alpha the distillation weight
   */
  public static Tensor loss(Tensor logits, Tensor labels, Tensor momentumLogits, double alpha,
      Distillation.Axis axis) {
    long v = logits.size(2);
    Tensor ce = torch.cross_entropy_loss(logits.reshape(-1, v), labels.reshape(-1), new TensorOptional(), 1, -100, 0.0);
    if (momentumLogits == null || alpha == 0) return ce;
    Tensor teacher;
    try (NoGradGuard guard = new NoGradGuard()) {
      teacher = torch.softmax(momentumLogits.detach(), -1);
    }
    Tensor soft = Distillation.softCrossEntropy(logits, teacher, labels.ne(new Scalar(-100)), axis);
    return ce.mul(new Scalar(1 - alpha)).add(soft.mul(new Scalar(alpha)));
  }
}
