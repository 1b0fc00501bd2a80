package dev.mplug.task.video;

import dev.mplug.data.loader.Batch;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.caption.CaptionBatch;
import dev.mplug.task.caption.CaptionData;
import dev.mplug.task.caption.CaptionHead;
import dev.mplug.task.caption.CaptionTask;
import dev.mplug.task.caption.CaptionTraining;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import java.util.EnumSet;
import java.util.List;

/**
 * Video captioning (VATEX in the paper, {@code --task video-caption}): the captioner over clips read as
 * {@link VideoStream}s, the decoder cross-attending every frame's tokens (the official
 * {@code model_caption_mplug_vatex.py}). Fine-tuning is captioning's token-mean cross-entropy on
 * {@code [CLS] prompt caption [SEP] [SEP]} (one caption of each clip per epoch); evaluation decodes by beam search
 * from {@code [CLS] prompt} and scores the coco-caption metrics against all of the clip's captions.
 *
 * <p>Config: {@code caption { prompt beam_size min_length max_length }} as image captioning (official VATEX prompt
 * "a picture of"; no SCST for video), {@code video { frames }} (official 8).
 */
public final class VideoCaptionTask implements DownstreamTask<CaptionBatch> {
  public static final String NAME = "video-caption";

  private final FinetuneConfig config;
  private final CaptionTask caption;
  private final int frames;

  public VideoCaptionTask(FinetuneConfig config) {
    if (config.file().getCaption().getScst()) {
      throw new IllegalArgumentException("caption.scst: self-critical training is not implemented for video-caption");
    }
    this.config = config;
    this.caption = new CaptionTask(config);
    this.frames = VideoClips.frames(config);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EnumSet<Part> parts() {
    return caption.parts();
  }

  @Override
  public List<String> metrics() {
    return caption.metrics();
  }

  /** Frames sampled per clip ({@code video.frames}). */
  public int frames() {
    return frames;
  }

  /** The captioner reading clips [B, F, 3, R, R] with this config's decoding settings and prompt. */
  public CaptionHead head(MPlug model, BertTokenizer tokenizer) {
    return new CaptionHead(model, caption.generation(tokenizer.vocabulary()), caption.promptIds(tokenizer),
        clips -> VideoStream.embeds(model, clips));
  }

  @Override
  public TrainingTask<CaptionBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    return new CaptionTraining(head(model, tokenizer), NAME);
  }

  @Override
  public Batches<CaptionBatch> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    String prompt = caption.options().prompt();
    int maxTokens = config.data().maxTokens();
    return VideoData.captions(config.data(), config.model().vision().imageRes(), frames, tokenizer, seed, rank,
        worldSize, (Batch b) -> CaptionData.batch(b, tokenizer, prompt, maxTokens));
  }

  @Override
  public TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    return VideoCaptionEvaluation.evaluate(head(model, tokenizer), tokenizer, set, frames);
  }
}
