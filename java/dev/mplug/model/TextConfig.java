package dev.mplug.model;

import static dev.mplug.model.ConfigChecks.below;
import static dev.mplug.model.ConfigChecks.divisible;
import static dev.mplug.model.ConfigChecks.nonNegative;
import static dev.mplug.model.ConfigChecks.positive;
import static dev.mplug.model.ConfigChecks.probability;

/**
 * The BERT side: the text encoder ({@code textEncoderLayers}), the skip-connected fusion network
 * ({@code fusionLayers}, connected-attention layer n when n > 0 and n % {@code strideLayer} == 0) and the decoder
 * ({@code decoderLayers}), all of one hidden size. Field names in the config file follow BERT's json.
 */
public record TextConfig(int hidden, int heads, int intermediate, int vocab, int maxPositions, int typeVocab,
    double layerNormEps, double hiddenDropout, double attentionDropout, int textEncoderLayers, int fusionLayers,
    int strideLayer, int decoderLayers, int padTokenId) {

  public TextConfig {
    positive("text.hidden_size", hidden);
    positive("text.num_attention_heads", heads);
    positive("text.intermediate_size", intermediate);
    positive("text.vocab_size", vocab);
    positive("text.max_position_embeddings", maxPositions);
    positive("text.type_vocab_size", typeVocab);
    positive("text.layer_norm_eps", layerNormEps);
    probability("text.hidden_dropout_prob", hiddenDropout);
    probability("text.attention_probs_dropout_prob", attentionDropout);
    nonNegative("text.text_encoder_layers", textEncoderLayers);
    nonNegative("text.fusion_layers", fusionLayers);
    positive("text.stride_layer", strideLayer);
    positive("text.text_decode_layers", decoderLayers);
    nonNegative("text.pad_token_id", padTokenId);
    divisible("text.hidden_size", hidden, "text.num_attention_heads", heads);
    below("text.pad_token_id", padTokenId, "text.vocab_size", vocab);
  }

  /** bert-base-uncased with mPLUG's split: 6 text-encoder layers, 6 fusion layers, 12 decoder layers. */
  public static TextConfig bertBase(int strideLayer) {
    return new TextConfig(768, 12, 3072, 30522, 512, 2, 1e-12, 0.1, 0.1, 6, 6, strideLayer, 12, 0);
  }

  /** Whether executed fusion layer n is a connected-attention layer (else an asymmetric co-attention layer). */
  public boolean isConnected(int n) {
    return n > 0 && n % strideLayer == 0;
  }

  public int headDim() {
    return hidden / heads;
  }

  public TextConfig withStrideLayer(int stride) {
    return new TextConfig(hidden, heads, intermediate, vocab, maxPositions, typeVocab, layerNormEps, hiddenDropout,
        attentionDropout, textEncoderLayers, fusionLayers, stride, decoderLayers, padTokenId);
  }
}
