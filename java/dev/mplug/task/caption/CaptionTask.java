package dev.mplug.task.caption;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import dev.mplug.train.proto.CaptionOptions;
import java.util.EnumSet;
import java.util.List;

/**
 * Image captioning (COCO Karpathy split in the paper): the vision encoder and the decoder only, fine-tuned with the
 * token-mean cross-entropy, or, with {@code caption { scst: true }}, by self-critical sequence training towards CIDEr-D
 * ({@link SelfCriticalTraining}); evaluated by beam search and the coco-caption metrics, CIDEr first.
 *
 * <p>Config section {@code caption { }}: {@code beam_size} (default 5), {@code min_length} (8), {@code max_length}
 * (25): the official COCO decoding; {@code scst}, {@code scst_beams} (5). {@code prompt} is refused: the official
 * prompt ("a picture of ") is a decoding prefix, and the shared beam search starts from [CLS] alone.
 */
public final class CaptionTask implements DownstreamTask<CaptionBatch> {
  /** The validated {@code caption { }} section. */
  public record Options(int beamSize, int minLength, int maxLength, boolean scst, int scstBeams) {}

  private final FinetuneConfig config;
  private final Options options;

  public CaptionTask(FinetuneConfig config) {
    this.config = config;
    this.options = options(config.file().getCaption(), config.model().text().maxPositions());
  }

  /** Validates the section; every error names its key. */
  static Options options(CaptionOptions c, int maxPositions) {
    Options o = new Options(c.hasBeamSize() ? c.getBeamSize() : 5, c.hasMinLength() ? c.getMinLength() : 8,
        c.hasMaxLength() ? c.getMaxLength() : 25, c.getScst(), c.hasScstBeams() ? c.getScstBeams() : 5);
    if (o.beamSize() < 1) throw new IllegalArgumentException("caption.beam_size must be >= 1, got " + o.beamSize());
    if (o.minLength() < 0) throw new IllegalArgumentException("caption.min_length must be >= 0, got " + o.minLength());
    if (o.maxLength() < 1) throw new IllegalArgumentException("caption.max_length must be >= 1, got " + o.maxLength());
    if (o.minLength() > o.maxLength()) {
      throw new IllegalArgumentException("caption.min_length (" + o.minLength() + ") must be <= caption.max_length ("
          + o.maxLength() + ")");
    }
    if (o.maxLength() + 1 > maxPositions) {
      throw new IllegalArgumentException("caption.max_length " + o.maxLength() + " + [CLS] exceeds the model's "
          + "max_position_embeddings " + maxPositions);
    }
    if (c.hasScstBeams() && !o.scst()) {
      throw new IllegalArgumentException("caption.scst_beams is set but caption.scst is not true");
    }
    if (o.scstBeams() < 2) {
      throw new IllegalArgumentException("caption.scst_beams must be >= 2 (the baseline is the mean reward of the "
          + "image's hypotheses), got " + o.scstBeams());
    }
    if (c.hasPrompt() && !c.getPrompt().isEmpty()) {
      throw new IllegalArgumentException("caption.prompt is not supported: decoding would have to start from the "
          + "prompt, and the beam search starts from [CLS] alone");
    }
    return o;
  }

  public Options options() {
    return options;
  }

  @Override
  public String name() {
    return "caption";
  }

  @Override
  public EnumSet<Part> parts() {
    return EnumSet.of(Part.VISION, Part.DECODER);
  }

  @Override
  public List<String> metrics() {
    return CaptionEvaluation.METRICS;
  }

  /** The decoding settings with the start and end tokens from the vocabulary ([CLS], [SEP]). */
  public GenerationConfig generation(Vocabulary vocabulary) {
    return new GenerationConfig(options.beamSize(), options.minLength(), options.maxLength(), vocabulary.clsId(),
        vocabulary.sepId(), GenerationConfig.caption().lengthPenaltyAlpha());
  }

  @Override
  public TrainingTask<CaptionBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    CaptionHead head = new CaptionHead(model, generation(tokenizer.vocabulary()));
    if (!options.scst()) return new CaptionTraining(head);
    return new SelfCriticalTraining(head, tokenizer, SelfCriticalTraining.references(config.data().annotations(),
        config.data().root()), options.scstBeams());
  }

  @Override
  public Batches<CaptionBatch> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    return new CaptionData(config.data(), config.model().vision().imageRes(), tokenizer, seed, rank, worldSize);
  }

  @Override
  public TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    return CaptionEvaluation.run(new CaptionHead(model, generation(tokenizer.vocabulary())), tokenizer, set);
  }
}
