package dev.mplug.task.grounding;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import dev.mplug.train.proto.GroundingOptions;
import java.util.EnumSet;
import java.util.List;

/**
 * Visual grounding (RefCOCO, RefCOCO+, RefCOCOg in the official release): locate the object a referring expression
 * names. The model is the VQA one (vision, text encoder, fusion, decoder) writing the box as four coordinate tokens
 * ({@link GroundingHead}); the canvas is the model's {@code vision.image_res} (official: 336, letterboxed). Config
 * section {@code grounding { l1_weight giou_weight official_weight_broadcast }}: how much of each factor of the token
 * weighting the loss uses (default 1 each), and whether to reproduce the released code's batch-coupled weighting
 * (default false; see {@link GroundingHead}).
 */
public final class GroundingTask implements DownstreamTask<GroundingBatch> {
  public static final String NAME = "grounding";

  private final FinetuneConfig config;
  private final GroundingHead.Weights weights;

  public GroundingTask(FinetuneConfig config) {
    GroundingOptions o = config.file().getGrounding();
    this.weights = new GroundingHead.Weights(o.hasL1Weight() ? o.getL1Weight() : 1.0,
        o.hasGiouWeight() ? o.getGiouWeight() : 1.0, o.getOfficialWeightBroadcast());
    this.config = config;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EnumSet<Part> parts() {
    return EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER);
  }

  @Override
  public List<String> metrics() {
    return GroundingEvaluation.METRICS;
  }

  public GroundingHead.Weights weights() {
    return weights;
  }

  @Override
  public TrainingTask<GroundingBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    return new GroundingTrainingTask(head(model, tokenizer));
  }

  @Override
  public Batches<GroundingBatch> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    return GroundingData.open(config.data(), config.model().vision().imageRes(), tokenizer, seed, rank, worldSize);
  }

  @Override
  public TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    return GroundingEvaluation.evaluate(head(model, tokenizer), tokenizer, set, config.data().maxTokens());
  }

  private GroundingHead head(MPlug model, BertTokenizer tokenizer) {
    return new GroundingHead(model, BoxTokens.of(tokenizer.vocabulary()), weights);
  }
}
