package dev.mplug.nn;

import dev.mplug.torch.TensorScope;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * BERT's input embeddings: {@code LayerNorm(word[id] + token_type[0] + position[t])}, then dropout. Positions are
 * {@code offset .. offset+T-1} (the offset is the cached prefix length when decoding step by step).
 */
public final class BertEmbeddings extends ModuleBase {
  private final EmbeddingImpl wordEmbeddings;
  private final EmbeddingImpl positionEmbeddings;
  private final EmbeddingImpl tokenTypeEmbeddings;
  private final LayerNormImpl layerNorm;
  private final int vocab;
  private final int maxPositions;
  private final double dropout;

  public BertEmbeddings(int vocab, int hidden, int maxPositions, int typeVocab, double layerNormEps, double dropout) {
    this.vocab = vocab;
    this.maxPositions = maxPositions;
    this.dropout = dropout;
    this.wordEmbeddings = embedding(this, "word_embeddings", vocab, hidden);
    this.positionEmbeddings = embedding(this, "position_embeddings", maxPositions, hidden);
    this.tokenTypeEmbeddings = embedding(this, "token_type_embeddings", typeVocab, hidden);
    this.layerNorm = layerNorm(this, "LayerNorm", hidden, layerNormEps);
  }

  /** ids int64 [B, T] -> [B, T, H]. */
  public Tensor forward(Tensor ids) {
    return forward(ids, 0);
  }

  /** ids int64 [B, T] at positions {@code offset ..} -> [B, T, H]. */
  public Tensor forward(Tensor ids, long offset) {
    requireShape(ids, "embeddings (token ids)", -1, -1);
    int dtype = ids.scalar_type().value;   // JavaCPP enums from native code: compare codes, not identity
    if (dtype != torch.ScalarType.Long.value && dtype != torch.ScalarType.Int.value) {
      throw new IllegalArgumentException("embeddings: token ids must be int64 or int32, got " + ids.scalar_type());
    }
    long t = ids.size(1);
    if (offset + t > maxPositions) {
      throw new IllegalArgumentException("embeddings: " + (offset + t) + " positions exceed max_position_embeddings "
          + maxPositions);
    }
    try (TensorScope scope = TensorScope.open()) {
      Tensor positions = torch.arange(new Scalar(offset), new Scalar(offset + t), ids.options());  // [T]
      Tensor tokenType = tokenTypeEmbeddings.weight().select(0, 0);                    // [H]
      Tensor e = wordEmbeddings.forward(ids)                                           // [B, T, H]
          .add(tokenType)
          .add(positionEmbeddings.forward(positions));                                 // + [T, H]
      return scope.keep(dropout(layerNorm.forward(e), dropout));
    }
  }

  /** The word-embedding matrix [V, H] (tied to the decoder's output projection). */
  public Tensor wordEmbeddingWeight() {
    return wordEmbeddings.weight();
  }

  public int vocab() {
    return vocab;
  }
}
