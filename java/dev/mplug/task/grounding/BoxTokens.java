package dev.mplug.task.grounding;

import dev.mplug.data.text.Vocabulary;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The box as the grounding decoder reads and writes it (spec §3, the official {@code model_grounding_mplug.py}): a
 * start token {@value #START} then four coordinate tokens {@code [unused(340 + q)]}, one per coordinate of
 * {@code (cx, cy, w, h)} normalised by the side of the letterboxed square canvas, with
 * {@code q = floor(clamp(c, 0, 1) x 336)}: 337 bins, whatever the canvas size (the official model fixes 336). A token
 * decodes to {@code q / 336}, the bin's lower edge.
 *
 * <p>The ids come from the vocabulary (bert-base's layout puts [unused339..676] at ids 344..681), which must hold the
 * 337 bin tokens at consecutive ids.
 *
 * @param startId the id of {@value #START}
 * @param firstBinId the id of {@code [unused340]} (q = 0); bin q is {@code firstBinId + q}
 */
public record BoxTokens(long startId, long firstBinId) {
  /** The start token the decoder is fed before the first coordinate. */
  public static final String START = "[unused339]";
  /** Bins per unit: q = floor(c x 336), so 337 tokens (q = 336 only for c = 1). */
  public static final int BINS = 336;
  /** The number of coordinate tokens. */
  public static final int TOKENS = BINS + 1;
  /** Added to the logits of every other token, as the official {@code bbox_prob_mask}. */
  public static final double MASKED = -10000.0;

  public BoxTokens {
    if (startId < 0 || firstBinId < 0) throw new IllegalArgumentException("token ids must be >= 0");
  }

  /** The box tokens of {@code vocabulary}; an error names the first token missing or out of place. */
  public static BoxTokens of(Vocabulary vocabulary) {
    int start = vocabulary.id(START);
    if (start < 0) throw new IllegalArgumentException("the vocabulary has no " + START + " (grounding's start token)");
    int first = vocabulary.id(binToken(0));
    if (first < 0) throw new IllegalArgumentException("the vocabulary has no " + binToken(0) + " (grounding's bin 0)");
    for (int q = 1; q < TOKENS; q++) {
      if (vocabulary.id(binToken(q)) != first + q) {
        throw new IllegalArgumentException("the vocabulary does not hold " + binToken(q) + " at id " + (first + q)
            + " (grounding needs " + binToken(0) + ".." + binToken(BINS) + " at consecutive ids)");
      }
    }
    return new BoxTokens(start, first);
  }

  /** The token of bin q: {@code [unused(340 + q)]}. */
  public static String binToken(int q) {
    return "[unused" + (340 + q) + "]";
  }

  /** The id of the last bin token (q = 336); the model's vocabulary must be larger. */
  public long lastBinId() {
    return firstBinId + BINS;
  }

  /** Normalised coordinates [B, 4] (float) -> token ids [B, 4] (int64): {@code firstBinId + floor(clamp(c) x 336)}. */
  public Tensor encode(Tensor coordinates) {
    return coordinates.clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)))
        .mul(new Scalar(BINS)).floor().to(torch.ScalarType.Long).add(new Scalar(firstBinId));   // [B, 4]
  }

  /** Token ids [B, 4] (int64, bin tokens) -> normalised coordinates [B, 4] (float32): {@code q / 336}. */
  public Tensor decode(Tensor ids) {
    return ids.sub(new Scalar(firstBinId)).to(torch.ScalarType.Float).div(new Scalar(BINS));   // [B, 4]
  }

  /** The additive logit mask [V]: 0 for the 337 bin tokens, {@link #MASKED} for every other token. */
  public Tensor logitMask(long vocabSize, Tensor like) {
    if (lastBinId() >= vocabSize) {
      throw new IllegalArgumentException("the model's vocabulary (" + vocabSize + " tokens) ends before the last box "
          + "token " + binToken(BINS) + " (id " + lastBinId() + ")");
    }
    Tensor mask = torch.full(new long[] {vocabSize}, new Scalar(MASKED), like.options());     // [V]
    mask.narrow(0, firstBinId, TOKENS).fill_(new Scalar(0.0));
    return mask;
  }

  /** The most likely bin token at each position, among the bin tokens only: logits [..., V] -> ids [...] (int64). */
  public Tensor argmax(Tensor logits) {
    return logits.narrow(-1, firstBinId, TOKENS).argmax(new LongOptional(-1), false)
        .add(new Scalar(firstBinId));
  }
}
