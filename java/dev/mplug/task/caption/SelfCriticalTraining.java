package dev.mplug.task.caption;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.CaptionSample;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.eval.caption.CiderD;
import dev.mplug.eval.caption.PtbTokenizer;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.Hypothesis;
import dev.mplug.profile.Range;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.Tensors;
import dev.mplug.task.FineTuning;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * CIDEr optimisation by self-critical sequence training (Rennie et al., 2017), as mPLUG's {@code caption_mplug_scst.py}
 * runs it after cross-entropy fine-tuning. Per image of the batch:
 * <ol>
 *   <li>{@code scst_beams} beam hypotheses are generated without gradients (in the model's current mode, as the
 *       official code generates in train mode);</li>
 *   <li>each is re-scored WITH gradients by teacher forcing: its summed token log-probability ({@link
 *       CaptionHead#sequenceLogProbs});</li>
 *   <li>reward = CIDEr-D of the hypothesis against the image's references (both PTB-tokenised), document frequencies
 *       from all reference sets of the training file; baseline = the mean reward of the image's hypotheses;</li>
 *   <li>loss = mean over all hypotheses of {@code -(logprob / length) x (reward - baseline)}, length = the
 *       hypothesis' ids with [CLS] (the official {@code numel()} of the ids), a forced prompt not counted.</li>
 * </ol>
 * Difference from the official code: it back-propagates through the scores the beam search itself computed, which
 * are length-penalised ({@code sum / ((5 + n) / 6)^0.6}) and taken with the dropout of that search; here the
 * hypotheses come from a search without gradients and their plain summed log-probability is recomputed in one
 * teacher-forced pass (which the key/value-cached search allows, and which needs no autograd graph over 25 decoding
 * steps). The references of an image are all captions of the training file's entries with its {@code image_id}
 * (train-style files list one caption per entry; a test-style caption list works as well).
 */
public final class SelfCriticalTraining extends FineTuning<CaptionBatch> {
  private final CaptionHead head;
  private final BertTokenizer tokenizer;
  private final Map<String, List<String>> references;   // image id -> PTB-tokenised captions
  private final CiderD cider;
  private final GenerationConfig beams;
  private double lastReward = Double.NaN;

  /**
   * @param references the raw reference captions of every training image by image id ({@link #references(Path, Path)})
   * @param beamCount hypotheses per image ({@code caption.scst_beams})
   */
  public SelfCriticalTraining(CaptionHead head, BertTokenizer tokenizer, Map<String, List<String>> references,
      int beamCount) {
    super(head.model(), "caption");
    if (beamCount < 2) throw new IllegalArgumentException("caption.scst_beams must be >= 2, got " + beamCount);
    this.head = head;
    this.tokenizer = tokenizer;
    this.references = new LinkedHashMap<>();
    references.forEach((id, captions) -> this.references.put(id, captions.stream().map(PtbTokenizer::tokenize)
        .toList()));
    this.cider = CiderD.fromReferences(this.references.values());
    this.beams = head.generation().withBeamSize(beamCount);
  }

  /** All captions of a captioning file grouped by {@code image_id}, in first-appearance order. */
  public static Map<String, List<String>> references(Path file, Path root) {
    AnnotationDataset<CaptionSample> dataset = AnnotationDataset.caption(file, root);
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (int i = 0; i < dataset.size(); i++) {
      CaptionSample s = dataset.get(i);
      out.computeIfAbsent(s.imageId(), k -> new ArrayList<>()).addAll(s.captions());
    }
    if (out.isEmpty()) throw new IllegalArgumentException(file + ": no captioning entries");
    return out;
  }

  @Override
  public Map<String, Tensor> losses(CaptionBatch batch, long step) {
    Tensor v = head.imageStates(batch.images());                                          // [B, Nv, H]
    List<List<Hypothesis>> generated;
    try (Range r = Range.open("scst.generate"); NoGradGuard _ = new NoGradGuard()) {
      generated = head.generate(v.detach(), beams, true);
    }
    int n = 0;
    int longest = 0;
    for (List<Hypothesis> hs : generated) {
      n += hs.size();
      for (Hypothesis h : hs) longest = Math.max(longest, h.length());
    }
    long[] ids = new long[n * longest];
    Arrays.fill(ids, head.model().config().text().padTokenId());
    long[] lengths = new long[n];
    long[] scoredLengths = new long[n];
    int promptLength = head.prompt().length;
    long[] owner = new long[n];
    double[] rewards = new double[n];
    int[] groups = new int[generated.size()];
    int row = 0;
    for (int b = 0; b < generated.size(); b++) {
      List<String> refs = references.get(batch.imageIds().get(b));
      if (refs == null) {
        throw new IllegalArgumentException("image_id " + batch.imageIds().get(b) + " has no reference captions");
      }
      groups[b] = generated.get(b).size();
      for (Hypothesis h : generated.get(b)) {
        long[] seq = h.ids();
        System.arraycopy(seq, 0, ids, row * longest, seq.length);
        lengths[row] = seq.length;
        scoredLengths[row] = seq.length - promptLength;
        owner[row] = b;
        rewards[row] = cider.score(PtbTokenizer.tokenize(head.caption(h, tokenizer)), refs);
        row++;
      }
    }
    Tensor memory = v.index_select(0, ComputeDevice.of(v).to(Tensors.longs(owner, n)));  // [N, Nv, H]
    Tensor logProbs;
    try (Range r = Range.open("loss.scst")) {
      logProbs = head.sequenceLogProbs(memory, Tensors.longs(ids, n, longest), lengths);    // [N]
    }
    double total = 0;
    for (double r : rewards) total += r;
    lastReward = total / n;
    return Map.of("scst", loss(logProbs, scoredLengths, rewards, groups));
  }

  /**
   * The self-critical loss: hypotheses come in groups (one per image, {@code groupSizes} in order); each group's
   * baseline is its mean reward; {@code mean_n(-(logProbs[n] / lengths[n]) x (rewards[n] - baseline))}.
   * logProbs [N] -> [].
   */
  public static Tensor loss(Tensor logProbs, long[] lengths, double[] rewards, int[] groupSizes) {
    int n = lengths.length;
    if (rewards.length != n || logProbs.size(0) != n) {
      throw new IllegalArgumentException(logProbs.size(0) + " log-probabilities, " + n + " lengths, " + rewards.length
          + " rewards");
    }
    float[] scale = new float[n];
    int start = 0;
    for (int size : groupSizes) {
      if (size < 1) throw new IllegalArgumentException("an image has no hypotheses");
      double baseline = 0;
      for (int i = start; i < start + size; i++) baseline += rewards[i];
      baseline /= size;
      for (int i = start; i < start + size; i++) scale[i] = (float) ((rewards[i] - baseline) / lengths[i]);
      start += size;
    }
    if (start != n) throw new IllegalArgumentException("groups cover " + start + " of " + n + " hypotheses");
    Tensor weights = ComputeDevice.of(logProbs).to(Tensors.floats(scale, n)).to(logProbs.scalar_type());
    return logProbs.mul(weights).neg().mean();
  }

  /** The mean CIDEr-D reward of the last batch's hypotheses. */
  @Override
  public Map<String, Double> metrics() {
    return Double.isNaN(lastReward) ? Map.of() : Map.of("reward", lastReward);
  }

  @Override
  public int batchSize(CaptionBatch batch) {
    return batch.size();
  }
}
