package dev.mplug.model;

import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.ActivationCheckpoint.Stack;
import dev.mplug.nn.BertEmbeddings;
import dev.mplug.nn.BertLayer;
import dev.mplug.nn.BertLmHead;
import dev.mplug.nn.KeyValues;
import dev.mplug.nn.Masks;
import dev.mplug.nn.ModuleBase;
import dev.mplug.profile.Range;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ModuleListImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The decoder ({@code text_decoder}, BERT LM-head model): embeddings, {@code text_decode_layers} layers of causal
 * self-attention, cross-attention to the encoder states and FFN, then the LM head whose output matrix is the
 * decoder's own word-embedding matrix (tied) plus a bias. Logits at position t score the token at t + 1.
 *
 * <p>Two ways to run it: {@link #forward} on whole sequences (teacher forcing, and the uncached reference for
 * generation), and {@link #startCache} + {@link #step} feeding only new tokens while the cache keeps the earlier
 * keys/values.
 */
public final class TextDecoder extends ModuleBase {
  private final TextConfig config;
  private final BertEmbeddings embeddings;
  private final List<BertLayer> layers = new ArrayList<>();
  private final BertLmHead head;

  public TextDecoder(TextConfig c) {
    this.config = c;
    Module bert = container(this, "bert");
    this.embeddings = child(bert, "embeddings", new BertEmbeddings(c.vocab(), c.hidden(), c.maxPositions(),
        c.typeVocab(), c.layerNormEps(), c.hiddenDropout()));
    ModuleListImpl list = list(container(bert, "encoder"), "layer");
    for (int i = 0; i < c.decoderLayers(); i++) {
      BertLayer layer = new BertLayer(c.hidden(), c.heads(), c.intermediate(), c.layerNormEps(), c.hiddenDropout(),
          c.attentionDropout(), c.hidden());
      list.push_back(layer);
      layers.add(layer);
    }
    this.head = child(container(this, "cls"), "predictions", new BertLmHead(c.hidden(), c.vocab(), c.layerNormEps()));
  }

  /**
   * Teacher forcing.
   *
   * @param ids int64 [B, T]
   * @param mask [B, T] 1 = token, 0 = padding, or null (all tokens); combined with the causal mask
   * @param memory encoder states [B, M, H]
   * @param memoryMask [B, M] 1 = keep
   * @return logits [B, T, V]
   */
  public Tensor forward(Tensor ids, Tensor mask, Tensor memory, Tensor memoryMask) {
    requireShape(ids, "text_decoder (ids)", -1, -1);
    requireShape(memory, "text_decoder (encoder states)", ids.size(0), -1, config.hidden());
    requireShape(memoryMask, "text_decoder (encoder mask)", memory.size(0), memory.size(1));
    if (mask != null) requireShape(mask, "text_decoder (attention mask)", ids.size(0), ids.size(1));
    try (Range r = Range.open("decoder"); TensorScope scope = TensorScope.open()) {
      Tensor x = embeddings.forward(ids);                                                // [B, T, H]
      Tensor selfMask = causalPaddingMask(mask, ids.size(1), x);                         // [B or 1, 1, T, T]
      Tensor crossMask = Masks.additive(memoryMask, Masks.CROSS_ATTENTION_MASKED, x);    // [B, 1, 1, M]
      for (BertLayer layer : layers) {
        x = ActivationCheckpoint.runLayer(Stack.DECODER,
            in -> layer.forward(in.get(0), in.get(1), in.get(2), in.get(3)), x, selfMask, memory, crossMask);
      }
      return scope.keep(head.forward(x, embeddings.wordEmbeddingWeight()));              // [B, T, V]
    }
  }

  /** The cross-attention keys/values of {@code memory} [B, M, H] for every layer, and its mask, in a fresh cache. */
  public DecoderCache startCache(Tensor memory, Tensor memoryMask) {
    requireShape(memory, "text_decoder (encoder states)", -1, -1, config.hidden());
    requireShape(memoryMask, "text_decoder (encoder mask)", memory.size(0), memory.size(1));
    List<KeyValues> cross = new ArrayList<>();
    for (BertLayer layer : layers) cross.add(layer.crossAttention().keysValues(memory));   // [B, h, M, d] each
    return new DecoderCache(cross, Masks.additive(memoryMask, Masks.CROSS_ATTENTION_MASKED, memory));
  }

  /**
   * Feeds {@code ids} [B, n] (the next n tokens, causal among themselves) after the cached ones; appends their
   * keys/values to the cache and returns the logits of the LAST new position [B, V].
   */
  public Tensor step(Tensor ids, DecoderCache cache) {
    requireShape(ids, "text_decoder (step ids)", cache.rows(), -1);
    try (TensorScope scope = TensorScope.open()) {
      long past = cache.length();
      long n = ids.size(1);
      Tensor x = embeddings.forward(ids, past);                                          // [B, n, H]
      Tensor selfMask = n == 1 ? null : Masks.causal(n, past + n, x);                    // [n, past + n]
      for (int i = 0; i < layers.size(); i++) {
        BertLayer layer = layers.get(i);
        KeyValues fresh = layer.attention().keysValues(x);                               // [B, h, n, d]
        KeyValues all = cache.self(i) == null ? fresh : cache.self(i).append(fresh);     // [B, h, past + n, d]
        Tensor a = layer.attention().attend(x, all, selfMask);                           // [B, n, H]
        Tensor c = layer.crossAttention().attend(a, cache.cross(i), cache.memoryMask()); // [B, n, H]
        x = layer.feedForward(c);                                                        // [B, n, H]
        cache.setSelf(i, new KeyValues(new Tensor(all.keys()), new Tensor(all.values())));
      }
      cache.advance(n);
      Tensor last = x.narrow(1, n - 1, 1);                                               // [B, 1, H]
      return scope.keep(head.forward(last, embeddings.wordEmbeddingWeight()).squeeze(1)); // [B, V]
    }
  }

  /** Additive self-attention mask: key j is masked for query i when j > i or j is padding (-10000 either way). */
  private static Tensor causalPaddingMask(Tensor mask, long t, Tensor like) {
    Tensor keep = torch.ones(new long[] {t, t}, like.options()).tril_(0);               // [T, T], 1 = allowed
    if (mask != null) keep = keep.mul(mask.to(like.scalar_type()).unsqueeze(1).unsqueeze(1)); // [B, 1, T, T]
    return keep.neg().add(new Scalar(1.0)).mul(new Scalar(Masks.SELF_ATTENTION_MASKED));
  }

  /**
   * The LM head alone on hidden states [B, T, H] -> logits [B, T, V] (weights tied to the decoder's word embeddings);
   * pretraining's MLM predicts masked words with it from the fusion text stream.
   */
  public Tensor lmLogits(Tensor hidden) {
    requireShape(hidden, "text_decoder.cls (hidden states)", -1, -1, config.hidden());
    return head.forward(hidden, embeddings.wordEmbeddingWeight());
  }

  public TextConfig config() {
    return config;
  }
}
