package dev.mplug.task.video;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.retrieval.RetrievalBatch;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.retrieval.RetrievalRanking;
import dev.mplug.task.retrieval.RetrievalTask;
import dev.mplug.task.retrieval.RetrievalTrainingTask;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import java.util.EnumSet;
import java.util.List;

/**
 * Text-video retrieval (MSRVTT in the paper, {@code --task video-retrieval}): the image-text retrieval head over clips
 * read as {@link VideoStream}s. Fine-tuning is image-text retrieval's (ITC multi-positive by clip + ITM with hard
 * negatives); evaluation is the official {@code retrieval_vid_mplug.py}: ITC similarities of the frame-averaged clip
 * features pick each query's top k, re-ranked by ITM "match" logit + ITC similarity, Recall@1/5/10 both ways. Zero-shot
 * evaluation of an image-text checkpoint (the paper's MSRVTT figure) is {@code mplug evaluate} on it.
 *
 * <p>Config: {@code retrieval { k itc itm chunk itm_batch }} as image-text retrieval (official MSRVTT k_test 128) and
 * {@code video { frames }} (official 12).
 */
public final class VideoRetrievalTask implements DownstreamTask<RetrievalBatch> {
  public static final String NAME = "video-retrieval";

  private final FinetuneConfig config;
  private final RetrievalTask retrieval;
  private final int frames;

  public VideoRetrievalTask(FinetuneConfig config) {
    this.config = config;
    this.retrieval = new RetrievalTask(config);
    this.frames = VideoClips.frames(config);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EnumSet<Part> parts() {
    return retrieval.parts();
  }

  @Override
  public List<String> metrics() {
    return VideoRetrievalEvaluation.METRICS;
  }

  /** Frames sampled per clip ({@code video.frames}). */
  public int frames() {
    return frames;
  }

  /** The official text-video ranking: {@code retrieval { }}'s settings, re-ranked by ITM logit + ITC similarity. */
  public RetrievalRanking.Options ranking() {
    return retrieval.ranking().withSimilarity();
  }

  /** The retrieval head reading clips [B, F, 3, R, R]. */
  public static RetrievalHead head(MPlug model) {
    return new RetrievalHead(model, clips -> VideoStream.index(model, clips));
  }

  @Override
  public TrainingTask<RetrievalBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    return new RetrievalTrainingTask(head(model), NAME, retrieval.itcWeight(), retrieval.itmWeight());
  }

  @Override
  public Batches<RetrievalBatch> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    return VideoData.retrieval(config.data(), config.model().vision().imageRes(), frames, tokenizer, seed, rank,
        worldSize);
  }

  @Override
  public TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    return VideoRetrievalEvaluation.evaluate(head(model), tokenizer, set, config.data(), frames, ranking());
  }
}
