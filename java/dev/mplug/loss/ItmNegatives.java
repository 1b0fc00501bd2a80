package dev.mplug.loss;

import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * ITM negatives: for every image one text, and for every text one image, of the batch's other pairs.
 *
 * <p>{@link Choice#HARD} (the official recipe) draws them by multinomial sampling from the softmax of the in-batch
 * similarities with the diagonal (the positive) zeroed, so similar-but-wrong pairs are chosen more often.
 * {@link Choice#RANDOM} draws them uniformly (UNITER's negatives): on a small world of near-duplicate scenes the
 * hardest pair is nearly always one that differs by a detail the fusion has not learned to see yet, and ITM learns
 * nothing (measured on the shapes world: ITM loss at its prior, 0.637, for all 1,000 demo steps with hard negatives;
 * 0.18 with random ones; see {@code pretrain-demo}).
 */
public final class ItmNegatives {
  /** How the negatives are drawn. */
  public enum Choice {
    /** In proportion to the softmax of the in-batch similarities (official). */
    HARD,
    /** Uniformly among the batch's other pairs. */
    RANDOM;

    /** The choice by its config name, "hard" or "random". */
    public static Choice of(String name) {
      return switch (name) {
        case "hard" -> HARD;
        case "random" -> RANDOM;
        default -> throw new IllegalArgumentException(
            "objectives.itm_negatives = \"" + name + "\": use hard or random");
      };
    }
  }

  /** Indices into the batch: the negative text of each image, the negative image of each text. */
  public record Indices(Tensor textForImage, Tensor imageForText) {}

  private ItmNegatives() {}

  /**
   * @param simI2t [B, B] image-to-text similarities
   * @param simT2i [B, B] text-to-image similarities
   */
  public static Indices sample(Tensor simI2t, Tensor simT2i, Choice choice) {
    long b = simI2t.size(0);
    if (b < 2) throw new IllegalArgumentException("ITM negatives need a batch of at least 2, got " + b);
    try (NoGradGuard guard = new NoGradGuard()) {
      Tensor textForImage = torch.multinomial(weights(simI2t, choice), 1, false, new GeneratorOptional()).view(b);
      Tensor imageForText = torch.multinomial(weights(simT2i, choice), 1, false, new GeneratorOptional()).view(b);
      return new Indices(textForImage, imageForText);
    }
  }

  /** [B, B] sampling weights per row, zero on the diagonal. */
  private static Tensor weights(Tensor sim, Choice choice) {
    Tensor s = sim.detach().to(torch.ScalarType.Float);
    Tensor w = choice == Choice.HARD ? torch.softmax(s, 1).add(new Scalar(1e-4)) : torch.ones_like(s);
    return w.fill_diagonal_(new Scalar(0.0));
  }
}
