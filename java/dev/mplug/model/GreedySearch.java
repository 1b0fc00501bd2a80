package dev.mplug.model;

import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Greedy decoding: from [start], append the most likely token (the end token forbidden while step < min_length)
 * until the end token or max_length. Scores as in {@link BeamSearch} (summed log-probabilities / length penalty),
 * so greedy equals a beam search of width 1.
 */
public final class GreedySearch {
  private GreedySearch() {}

  /** memory [B, M, H], memoryMask [B, M] -> one hypothesis per example. */
  public static List<Hypothesis> run(TextDecoder decoder, Tensor memory, Tensor memoryMask, GenerationConfig g,
      boolean cached) {
    int batch = (int) memory.size(0);
    List<List<Long>> ids = new ArrayList<>();
    double[] logProbSum = new double[batch];
    boolean[] done = new boolean[batch];
    for (int b = 0; b < batch; b++) ids.add(new ArrayList<>(List.of((long) g.startToken())));
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      Tensor alive = torch.full(new long[] {batch, 1}, new Scalar(g.startToken()), memoryMask.options())
          .to(torch.ScalarType.Long);                                                      // [B, 1]
      try (DecoderCache cache = cached ? decoder.startCache(memory, memoryMask) : null) {
        for (int step = 0; step < g.maxLength(); step++) {
          try (TensorScope stepScope = TensorScope.open()) {
            Tensor logits = cached
                ? decoder.step(step == 0 ? alive : alive.narrow(1, alive.size(1) - 1, 1), cache)   // [B, V]
                : decoder.forward(alive, null, memory, memoryMask).select(1, -1);                  // [B, V]
            Tensor logProbs = torch.log(torch.softmax(logits, -1));                       // [B, V]
            if (step < g.minLength()) logProbs.select(1, g.endToken()).fill_(new Scalar(-1e20));
            Tensor next = logProbs.argmax(new LongOptional(1), false);                    // [B]
            long[] tokens = Tensors.toLongs(next);
            float[] chosen = Tensors.toFloats(logProbs.gather(1, next.unsqueeze(1)));     // [B]
            boolean all = true;
            for (int b = 0; b < batch; b++) {
              if (done[b]) continue;
              ids.get(b).add(tokens[b]);
              logProbSum[b] += chosen[b];
              done[b] = tokens[b] == g.endToken();
              all &= done[b];
            }
            if (all) break;
            alive = stepScope.keep(torch.cat(new TensorVector(alive, next.unsqueeze(1)), 1));   // [B, len + 1]
          }
        }
      }
    }
    List<Hypothesis> out = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      long[] seq = ids.get(b).stream().mapToLong(Long::longValue).toArray();
      out.add(new Hypothesis(seq, (float) (logProbSum[b] / g.lengthPenalty(seq.length - 1))));
    }
    return out;
  }

}
