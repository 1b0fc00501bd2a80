package dev.mplug.task.video;

import dev.mplug.model.MPlug;
import dev.mplug.task.retrieval.RetrievalHead;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * How mPLUG reads a video (spec §3; the official {@code retrieval_vid_mplug.py}, {@code videoqa_mplug.py} and
 * {@code model_caption_mplug_vatex.py}): F frames sampled uniformly, every frame through the ViT on its own (and
 * {@code visn_fc} for the large model), the frames' token sequences concatenated in frame order along the sequence
 * axis. Each frame keeps its own [CLS] token and its own ViT positions; there is no temporal embedding. The fusion
 * network and the decoder then attend over all F x Nv tokens as they would over one image's Nv.
 *
 * <pre>
 * clips [B, F, 3, R, R] -> view [B F, 3, R, R] -> ViT -> V0 per frame [B F, Nv, H] -> view [B, F Nv, H]
 * ITC feature: normalize(mean over frames of vision_proj(frame [CLS]))                              [B, E]
 * </pre>
 * The ITC feature is the official one: each frame's [CLS] projected, averaged over the frames, normalised (computed
 * here as the projection of the frames' mean [CLS], the same value since the projection is affine).
 *
 * @param embeds the visual stream V0 [B, F Nv, H]
 * @param frames F
 */
public record VideoStream(Tensor embeds, int frames) {
  /** Clips [B, F, 3, R, R] through the vision side. */
  public static VideoStream encode(MPlug model, Tensor clips) {
    if (clips.dim() != 5) {
      throw new IllegalArgumentException("video tasks take clips [B, F, 3, R, R], got a " + clips.dim() + "-d tensor");
    }
    long b = clips.size(0);
    int f = (int) clips.size(1);
    Tensor v = model.visionEmbeds(model.visionTokens(clips.flatten(0, 1)));           // [B F, Nv, H]
    return new VideoStream(v.reshape(b, f * v.size(1), v.size(2)), f);                // [B, F Nv, H]
  }

  /** The visual stream alone: what the fusion and the decoder read. */
  public static Tensor embeds(MPlug model, Tensor clips) {
    return encode(model, clips).embeds();
  }

  /** The stream and its ITC features, as text-video retrieval indexes a clip. */
  public static RetrievalHead.Images index(MPlug model, Tensor clips) {
    VideoStream s = encode(model, clips);
    return new RetrievalHead.Images(s.embeds(), s.features(model));
  }

  /** The L2-normalised ITC features [B, E]: the frames' [CLS] tokens projected and averaged. */
  public Tensor features(MPlug model) {
    long b = embeds.size(0);
    long h = embeds.size(2);
    Tensor cls = embeds.view(b, frames, -1, h).select(2, 0);                         // [B, F, H]
    return model.imageFeatures(cls.mean(new long[] {1}, true, new ScalarTypeOptional()));   // [B, 1, H] -> [B, E]
  }
}
