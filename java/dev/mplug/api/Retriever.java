package dev.mplug.api;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TextCleaning;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.retrieval.RetrievalRanking;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;

/**
 * Retrieval as {@code RetrievalEvaluation} and {@link RetrievalRanking} do it: texts cleaned by pre_caption and padded
 * to the longest of the whole list, images and texts encoded once into ITC features, each query's top k candidates
 * by cosine similarity re-ranked by {@link RetrievalHead#matchScores} (queries in chunks, pairs in sub-batches, as
 * the evaluation; clips score ITM logit + ITC similarity, as text-video retrieval does). Unlike the evaluation,
 * which keeps ranks and the best 10, every re-ranked candidate is returned with its similarity and score.
 */
final class Retriever {
  /** ITM "match" scores of (query row, candidate row) pairs. */
  @FunctionalInterface
  private interface PairScorer {
    float[] score(long[] queries, long[] candidates);
  }

  private final RetrievalHead head;
  private final BertTokenizer tokenizer;
  private final RetrievalRanking.Options options;
  private final int maxWords;
  private final int maxTokens;

  Retriever(RetrievalHead head, BertTokenizer tokenizer, RetrievalRanking.Options options, int maxWords,
      int maxTokens) {
    this.head = head;
    this.tokenizer = tokenizer;
    this.options = options;
    this.maxWords = maxWords;
    this.maxTokens = maxTokens;
  }

  /** The texts tokenised as the evaluation does (one batch, padded to the longest). */
  TokenBatch texts(List<String> texts) {
    List<String> cleaned = new ArrayList<>(texts.size());
    for (String t : texts) cleaned.add(TextCleaning.preCaption(t, maxWords));
    return tokenizer.encodeBatch(cleaned, maxTokens, Padding.LONGEST);
  }

  /** Images [B, 3, R, R] -> their embeddings and ITC features (call in eval mode, without gradients). */
  RetrievalHead.Images images(Tensor images) {
    return head.images(images);
  }

  /** Every text through the text encoder, {@code batch} at a time, into one index (as the evaluation). */
  RetrievalHead.Texts encodeTexts(TokenBatch tokens, int batch) {
    return head.texts(tokens, batch);
  }

  /** Both directions (call in eval mode, without gradients). */
  Rankings rank(RetrievalHead.Images images, RetrievalHead.Texts texts) {
    List<List<Match>> i2t = direction(images.features(), texts.features(),
        (q, c) -> head.pairScores(images.embeds(), q, texts, c));
    List<List<Match>> t2i = direction(texts.features(), images.features(),
        (q, c) -> head.pairScores(images.embeds(), c, texts, q));
    return new Rankings(i2t, t2i);
  }

  private List<List<Match>> direction(Tensor queryFeatures, Tensor candidateFeatures, PairScorer scorer) {
    int queries = (int) queryFeatures.size(0);
    int candidates = (int) candidateFeatures.size(0);
    int k = Math.min(options.k(), candidates);
    List<List<Match>> out = new ArrayList<>(queries);
    for (int start = 0; start < queries; start += options.chunk()) {
      int c = Math.min(options.chunk(), queries - start);
      float[] sims;
      long[] chosen;
      try (TensorScope scope = TensorScope.open()) {
        Tensor s = queryFeatures.narrow(0, start, c).matmul(candidateFeatures.t());          // [c, C]
        T_TensorTensor_T best = s.topk(k, 1, true, true);                                  // [c, k] each
        sims = Tensors.toFloats(best.get0());
        chosen = Tensors.toLongs(best.get1());
      }
      float[] itm = new float[c * k];
      for (int p0 = 0; p0 < c * k; p0 += options.itmBatch()) {
        int p = Math.min(options.itmBatch(), c * k - p0);
        long[] q = new long[p];
        for (int j = 0; j < p; j++) q[j] = start + (p0 + j) / k;
        System.arraycopy(scorer.score(q, Arrays.copyOfRange(chosen, p0, p0 + p)), 0, itm, p0, p);
      }
      if (options.addSimilarity()) for (int j = 0; j < c * k; j++) itm[j] += sims[j];   // the video score
      for (int q = 0; q < c; q++) {
        Integer[] order = new Integer[k];
        for (int j = 0; j < k; j++) order[j] = q * k + j;
        Arrays.sort(order, (a, b) -> Float.compare(itm[b], itm[a]));   // stable: ties keep the ITC order
        List<Match> ranked = new ArrayList<>(k);
        for (int at : order) ranked.add(new Match((int) chosen[at], sims[at], itm[at]));
        out.add(ranked);
      }
    }
    return out;
  }
}
