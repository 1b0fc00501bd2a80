package dev.mplug.model;

import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Beam search as the official captioning / VQA decoder ({@code TextGenerator} of X-PLUG/mPLUG) does it, per example
 * with {@code beam_size} rows:
 * <ol>
 *   <li>every row starts as [start] followed by the forced {@code prefix} (a captioning prompt; usually empty);
 *       cumulative log-probability 0 for row 0, -inf for the others;</li>
 *   <li>each step scores the last position: log(softmax(logits)); the end token gets -1e20 while step < min_length;</li>
 *   <li>candidate score = (cumulative + token log-prob) / lp with lp = ((5 + step + 1) / 6)^alpha; the best
 *       {@code beam_size} of all (row, token) pairs survive, their cumulative = score * lp;</li>
 *   <li>a survivor ending in the end token (or any survivor at the last step) is recorded as a hypothesis but stays in
 *       the beam (so later hypotheses may hold the end token inside);</li>
 *   <li>when the best survivor of a step is finished, all survivors are recorded and the example stops.</li>
 * </ol>
 * Hypotheses are sorted by score (stable), the best {@code beam_size} kept. With {@code cached}, the decoder feeds
 * only the new token per step and reuses earlier keys/values (the official code re-runs the whole prefix); the ids
 * are the same either way. Lengths (minimum, maximum, length penalty) count the tokens generated after the prefix.
 */
public final class BeamSearch {
  private BeamSearch() {}

  /**
   * @param memory encoder states [B, M, H] (VQA: [V; L] per question; captioning: the vision tokens)
   * @param memoryMask [B, M] 1 = keep
   * @return per example the kept hypotheses, best first
   */
  public static List<List<Hypothesis>> run(TextDecoder decoder, Tensor memory, Tensor memoryMask, GenerationConfig g,
      boolean cached) {
    return run(decoder, memory, memoryMask, g, cached, new long[0]);
  }

  /**
   * {@link #run(TextDecoder, Tensor, Tensor, GenerationConfig, boolean)} with every sequence starting as [start]
   * {@code prefix}: the prefix tokens are fed, not scored, and stay at the head of each hypothesis' ids.
   */
  public static List<List<Hypothesis>> run(TextDecoder decoder, Tensor memory, Tensor memoryMask, GenerationConfig g,
      boolean cached, long[] prefix) {
    int batch = (int) memory.size(0);
    int k = g.beamSize();
    long vocab = decoder.config().vocab();
    if (k > vocab) throw new IllegalArgumentException("generation.beam_size " + k + " exceeds the vocabulary " + vocab);
    List<List<Hypothesis>> hypotheses = new ArrayList<>();
    List<List<Hypothesis>> results = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      hypotheses.add(new ArrayList<>());
      results.add(List.of());
    }
    ComputeDevice device = ComputeDevice.of(memory);   // the Java-built ids and row indices go where the states are
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      // uncached: the encoder states per row, as the official code tiles them
      Tensor mem = cached ? null : tile(memory, k);                                       // [B k, M, H]
      Tensor memMask = cached ? null : tile(memoryMask, k);                               // [B k, M]
      long[] head = new long[1 + prefix.length];
      head[0] = g.startToken();
      System.arraycopy(prefix, 0, head, 1, prefix.length);
      Tensor alive = device.to(Tensors.longs(head, 1, head.length)).expand(batch * k, head.length)
          .contiguous();                                                                  // [B k, 1 + P]
      float[] first = new float[batch * k];
      for (int i = 0; i < first.length; i++) first[i] = i % k == 0 ? 0f : Float.NEGATIVE_INFINITY;
      Tensor cumulative = device.to(Tensors.floats(first, first.length));                 // [B k]
      int[] batchOffset = new int[batch];
      for (int b = 0; b < batch; b++) batchOffset[b] = b;
      try (DecoderCache cache = cached ? decoder.startCache(memory, memoryMask) : null) {
        // the encoder keys/values are projected once per example, then copied to its beam rows
        if (cache != null) cache.reorder(tileIndex(batch, k, device), tileIndex(batch, k, device));
        for (int step = 0; step < g.maxLength(); step++) {
          try (TensorScope stepScope = TensorScope.open()) {
            int active = batchOffset.length;
            Tensor logits = cached
                ? decoder.step(step == 0 ? alive : alive.narrow(1, alive.size(1) - 1, 1), cache)   // [rows, V]
                : decoder.forward(alive, null, mem, memMask).select(1, -1);                        // [rows, V]
            Tensor logProbs = torch.log(torch.softmax(logits, -1));                       // [rows, V]
            if (step < g.minLength()) logProbs.select(1, g.endToken()).fill_(new Scalar(-1e20));
            double lp = g.lengthPenalty(step + 1);
            Tensor scores = logProbs.add(cumulative.unsqueeze(1)).div(new Scalar(lp))
                .reshape(active, (long) k * vocab);                                       // [active, k V]
            T_TensorTensor_T top = scores.topk(k, -1, true, true);
            float[] topScores = Tensors.toFloats(top.get0());                            // [active k]
            long[] topIds = Tensors.toLongs(top.get1());                                 // [active k]
            Tensor nextCumulative = top.get0().mul(new Scalar(lp)).reshape(-1);            // [active k]
            long[] source = new long[active * k];
            long[] tokens = new long[active * k];
            for (int i = 0; i < active * k; i++) {
              source[i] = (i / k) * (long) k + topIds[i] / vocab;    // the candidate's row
              tokens[i] = topIds[i] % vocab;
            }
            Tensor sourceRows = device.to(Tensors.longs(source, source.length));
            alive = torch.cat(new TensorVector(alive.index_select(0, sourceRows),
                device.to(Tensors.longs(tokens, tokens.length, 1))), 1);                  // [rows, len + 1]
            boolean last = step + 1 == g.maxLength();
            boolean[] ended = new boolean[active];
            boolean anyFinished = false;
            for (int i = 0; i < active * k; i++) anyFinished |= last || tokens[i] == g.endToken();
            Tensor keepRows = sourceRows;
            boolean shrunk = false;
            if (anyFinished) {
              long len = alive.size(1);
              long[] seqs = Tensors.toLongs(alive);
              List<Integer> survivors = new ArrayList<>();
              for (int i = 0; i < active; i++) {
                int b = batchOffset[i];
                ended[i] = last || tokens[i * k] == g.endToken();
                for (int j = 0; j < k; j++) {
                  int r = i * k + j;
                  if (ended[i] || tokens[r] == g.endToken()) {
                    hypotheses.get(b).add(new Hypothesis(Arrays.copyOfRange(seqs, (int) (r * len),
                        (int) ((r + 1) * len)), topScores[r]));
                  }
                }
                if (ended[i]) {
                  List<Hypothesis> sorted = new ArrayList<>(hypotheses.get(b));
                  sorted.sort(Comparator.comparingDouble((Hypothesis h) -> h.score()).reversed()); // stable
                  results.set(b, List.copyOf(sorted.subList(0, Math.min(k, sorted.size()))));
                } else {
                  survivors.add(i);
                }
              }
              if (survivors.isEmpty()) break;
              if (survivors.size() < active) {
                shrunk = true;
                long[] rows = new long[survivors.size() * k];
                int[] offsets = new int[survivors.size()];
                for (int s = 0; s < survivors.size(); s++) {
                  offsets[s] = batchOffset[survivors.get(s)];
                  for (int j = 0; j < k; j++) rows[s * k + j] = (long) survivors.get(s) * k + j;
                }
                Tensor rowsT = device.to(Tensors.longs(rows, rows.length));
                alive = alive.index_select(0, rowsT);
                nextCumulative = nextCumulative.index_select(0, rowsT);
                keepRows = sourceRows.index_select(0, rowsT);   // old-row sources of the surviving candidates
                batchOffset = offsets;
              }
            }
            // within an example every row holds the same encoder states: they move only when examples leave
            if (shrunk && !cached) {
              mem = stepScope.keep(mem.index_select(0, keepRows));
              memMask = stepScope.keep(memMask.index_select(0, keepRows));
            }
            if (cache != null) cache.reorder(keepRows, shrunk ? keepRows : null);
            alive = stepScope.keep(alive);
            cumulative = stepScope.keep(nextCumulative);
          }
        }
      }
    }
    return results;
  }

  /** int64 [B k] on {@code device}: 0 (k times), 1 (k times), ... */
  static Tensor tileIndex(int batch, int k, ComputeDevice device) {
    long[] rows = new long[batch * k];
    for (int i = 0; i < rows.length; i++) rows[i] = i / k;
    return device.to(Tensors.longs(rows, rows.length));
  }

  /** Each row repeated {@code k} times in place: [B, ...] -> [B k, ...] (rows b k .. b k + k - 1 are example b). */
  static Tensor tile(Tensor x, int k) {
    return x.repeat_interleave(k, new LongOptional(0), new LongOptional());
  }
}
