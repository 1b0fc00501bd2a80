package dev.mplug.task.retrieval;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import dev.mplug.train.proto.RetrievalOptions;
import java.util.EnumSet;
import java.util.List;

/**
 * Image-text retrieval (COCO / Flickr30K, ALBEF's file formats): fine-tuning with ITC (multi-positive by image) and
 * ITM (hard negatives), evaluation as the official code (ITC top-k re-ranked by ITM, Recall@1/5/10 both ways).
 *
 * <p>Config section {@code retrieval { }}: {@code k} candidates re-ranked per query (default 256, official COCO
 * k_test), loss weights {@code itc} and {@code itm} (default 1 each), and the evaluation's memory bounds
 * {@code chunk} (queries per similarity chunk, default 256) and {@code itm_batch} (pairs per fusion forward,
 * default 128).
 */
public final class RetrievalTask implements DownstreamTask<RetrievalBatch> {
  private final FinetuneConfig config;
  private final RetrievalRanking.Options ranking;
  private final double itcWeight;
  private final double itmWeight;

  public RetrievalTask(FinetuneConfig config) {
    RetrievalOptions o = config.file().getRetrieval();
    this.config = config;
    this.ranking = new RetrievalRanking.Options(o.hasK() ? o.getK() : 256, o.hasChunk() ? o.getChunk() : 256,
        o.hasItmBatch() ? o.getItmBatch() : 128);
    this.itcWeight = o.hasItc() ? o.getItc() : 1.0;
    this.itmWeight = o.hasItm() ? o.getItm() : 1.0;
    if (!(itcWeight >= 0)) throw new IllegalArgumentException("retrieval.itc must be >= 0, got " + itcWeight);
    if (!(itmWeight >= 0)) throw new IllegalArgumentException("retrieval.itm must be >= 0, got " + itmWeight);
    if (itcWeight == 0 && itmWeight == 0) {
      throw new IllegalArgumentException("retrieval.itc and retrieval.itm are both 0: nothing to train");
    }
    if (config.data().batchSize() < 2) {
      throw new IllegalArgumentException("data.batch_size must be >= 2 for retrieval (in-batch negatives), got "
          + config.data().batchSize());
    }
  }

  @Override
  public String name() {
    return "retrieval";
  }

  @Override
  public EnumSet<Part> parts() {
    return EnumSet.copyOf(RetrievalHead.PARTS);
  }

  @Override
  public List<String> metrics() {
    return RetrievalEvaluation.METRICS;
  }

  /** The loss weights {@code retrieval.itc} and {@code retrieval.itm}. */
  public double itcWeight() {
    return itcWeight;
  }

  public double itmWeight() {
    return itmWeight;
  }

  /** The ranking settings of the config (k, chunk, itm_batch). */
  public RetrievalRanking.Options ranking() {
    return ranking;
  }

  @Override
  public TrainingTask<RetrievalBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    return new RetrievalTrainingTask(model, itcWeight, itmWeight);
  }

  @Override
  public Batches<RetrievalBatch> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    return RetrievalData.open(config.data(), config.model().vision().imageRes(), tokenizer, seed, rank, worldSize);
  }

  @Override
  public TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    return RetrievalEvaluation.evaluate(model, tokenizer, set, config.data().maxTokens(), config.data().maxWords(),
        ranking);
  }
}
