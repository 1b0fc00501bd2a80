package dev.mplug.model;

import java.util.EnumSet;
import java.util.Set;

/** The parts of mPLUG a model instance builds; each task model needs only some of them (as the official classes). */
public enum Part {
  /** {@code visual_encoder.visual.*} (and {@code visn_fc}, {@code visn_layer_norm} when widths differ). */
  VISION,
  /** {@code text_encoder.*}. */
  TEXT_ENCODER,
  /** {@code fusion_encoder.*}: the skip-connected fusion network. */
  FUSION,
  /** {@code text_decoder.*}: decoder with the tied LM head. */
  DECODER,
  /** {@code vision_proj}, {@code text_proj}, {@code itm_head}, {@code temp}. */
  ITC_ITM_HEADS,
  /** The momentum twins {@code *_m} of the vision, text and fusion encoders and the ITC projections. */
  MOMENTUM;

  /** Every part but the momentum twins. */
  public static Set<Part> all() {
    return Set.copyOf(EnumSet.complementOf(EnumSet.of(MOMENTUM)));
  }

  /** The official VQA model: question encoder, fusion, answer decoder. */
  public static Set<Part> vqa() {
    return Set.of(VISION, TEXT_ENCODER, FUSION, DECODER);
  }

  /** The official captioning model: the decoder reads the image tokens only. */
  public static Set<Part> caption() {
    return Set.of(VISION, DECODER);
  }

  /** The official retrieval model: ITC on the encoders, ITM on the fusion. */
  public static Set<Part> retrieval() {
    return Set.of(VISION, TEXT_ENCODER, FUSION, ITC_ITM_HEADS);
  }
}
