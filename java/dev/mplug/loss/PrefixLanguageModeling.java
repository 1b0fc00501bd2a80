package dev.mplug.loss;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Prefix LM: the caption is split at a random word; the prefix goes through the text encoder and the fusion with the
 * image, and the decoder generates the rest (+ [SEP]) cross-attending to cat[V'; L']. Loss = token-mean CE.
 */
public final class PrefixLanguageModeling {
  /** A caption split into what the encoder reads and what the decoder must produce. */
  public record Split(String prefix, String target) {}

  private PrefixLanguageModeling() {}

  /**
   * Splits at a uniformly random word boundary k in [1, n-1] (n words); a one-word caption becomes an empty prefix
   * and the whole caption as target.
   */
  public static Split split(String caption, RandomGenerator rng) {
    String[] words = caption.strip().split("\\s+");
    if (words.length < 2) return new Split("", caption.strip());
    int k = 1 + rng.nextInt(words.length - 1);
    return new Split(String.join(" ", Arrays.copyOfRange(words, 0, k)),
        String.join(" ", Arrays.copyOfRange(words, k, words.length)));
  }

  /**
   * Token-mean cross-entropy of next-token logits.
   *
   * @param logits [B, T, V] decoder logits (position t scores token t+1)
   * @param targetIds [B, T] decoder input ids ([CLS] target... [SEP] [PAD]...)
   * @param targetMask [B, T] 1 = real token
   */
  public static Tensor loss(Tensor logits, Tensor targetIds, Tensor targetMask) {
    long t = logits.size(1);
    long v = logits.size(2);
    Tensor shifted = logits.narrow(1, 0, t - 1).reshape(-1, v);                              // [B*(T-1), V]
    Tensor labels = targetIds.narrow(1, 1, t - 1)
        .masked_fill(targetMask.narrow(1, 1, t - 1).eq(new Scalar(0)), new Scalar(-100)).reshape(-1); // [B*(T-1)]
    return torch.cross_entropy_loss(shifted, labels, new TensorOptional(), 1, -100, 0.0);
  }
}
