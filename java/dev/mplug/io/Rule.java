package dev.mplug.io;

/**
 * Why a checkpoint key is not loaded, or why a model parameter is deliberately left at its initial value. Every key
 * a weight load skips is filed under one of these, so a report accounts for every key.
 */
public enum Rule {
  // official mPLUG checkpoints
  CLIP_TEXT_TOWER("CLIP text tower (visual_encoder.* outside visual_encoder.visual.*)"),
  CLIP_PROJ("CLIP visual.proj (not applied: the ln_post output is used)"),
  ABSENT_ENCODERS("text encoder and fusion network (not in this model: captioning decodes from the image alone)"),
  FUSION_EMBEDDINGS("fusion embeddings (the fusion network takes the text encoder output)"),
  DEAD_FUSION_LAYERS("dead fusion layers (below fusion_start_layer, never executed)"),
  POSITION_IDS("position_ids buffers (constant 0..max_position_embeddings-1)"),
  TIED_DECODER("tied LM head keys (same values as the decoder's word embeddings and prediction bias)"),
  ITC_QUEUES("ITC training queues"),
  MOMENTUM_TWINS("momentum twins (first name component ends in _m; the model has none)"),
  PRETRAINING_MLM_HEADS("MLM heads of the pretraining encoders"),
  // public initial weights
  CLIP_METADATA("CLIP archive metadata (input_resolution, context_length, vocab_size)"),
  BERT_POOLER("BERT pooler (mPLUG has none)"),
  BERT_NSP_HEAD("BERT next-sentence head"),
  BERT_UNUSED("BERT weights no module of this model takes"),
  // parameters left fresh
  FRESH_CROSS_ATTENTION("cross-attention (BERT has none: freshly initialised, as officially)");

  private final String description;

  Rule(String description) {
    this.description = description;
  }

  public String description() {
    return description;
  }

  @Override
  public String toString() {
    return description;
  }
}
