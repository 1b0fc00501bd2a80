package dev.mplug.model;

import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.ActivationCheckpoint.Stack;
import dev.mplug.nn.BertEmbeddings;
import dev.mplug.nn.BertLayer;
import dev.mplug.nn.Masks;
import dev.mplug.nn.ModuleBase;
import dev.mplug.profile.Range;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.ModuleListImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * The BERT text encoder ({@code text_encoder}): embeddings and {@code text_encoder_layers} self-attention layers
 * (bert-base layers 0-5 in mPLUG). Padded positions are computed as queries but masked as keys (-10000).
 */
public final class TextEncoder extends ModuleBase {
  private final BertEmbeddings embeddings;
  private final List<BertLayer> layers = new ArrayList<>();

  public TextEncoder(TextConfig c) {
    this.embeddings = child(this, "embeddings", new BertEmbeddings(c.vocab(), c.hidden(), c.maxPositions(),
        c.typeVocab(), c.layerNormEps(), c.hiddenDropout()));
    ModuleListImpl list = list(container(this, "encoder"), "layer");
    for (int i = 0; i < c.textEncoderLayers(); i++) {
      BertLayer layer = new BertLayer(c.hidden(), c.heads(), c.intermediate(), c.layerNormEps(), c.hiddenDropout(),
          c.attentionDropout(), 0);
      list.push_back(layer);
      layers.add(layer);
    }
  }

  /** ids int64 [B, T], mask [B, T] (1 = token, 0 = padding) -> last hidden state [B, T, H]. */
  public Tensor forward(Tensor ids, Tensor mask) {
    requireShape(mask, "text_encoder (attention mask)", ids.size(0), ids.size(1));
    try (Range r = Range.open("text_encoder"); TensorScope scope = TensorScope.open()) {
      Tensor x = embeddings.forward(ids);                                       // [B, T, H]
      Tensor additive = Masks.additive(mask, Masks.SELF_ATTENTION_MASKED, x);   // [B, 1, 1, T]
      for (BertLayer layer : layers) {
        x = ActivationCheckpoint.runLayer(Stack.TEXT_ENCODER, in -> layer.forward(in.get(0), in.get(1)), x, additive);
      }
      return scope.keep(x);
    }
  }
}
