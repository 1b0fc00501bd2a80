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
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;

/**
 * Image captioning (COCO Karpathy split in the paper): the vision encoder and the decoder only, fine-tuned with the
 * token-mean cross-entropy, or, with {@code caption { scst: true }}, by self-critical sequence training towards CIDEr-D
 * ({@link SelfCriticalTraining}); evaluated by beam search and the coco-caption metrics, CIDEr first.
 *
 * <p>Config section {@code caption { }}: {@code beam_size} (default 5), {@code min_length} (8), {@code max_length}
 * (25): the official COCO decoding, lengths counted after the prompt; {@code scst}, {@code scst_beams} (5);
 * {@code prompt} (none; the official VATEX setting is "a picture of"): trained on as part of every caption and forced
 * at the start of decoding ({@link CaptionHead}).
 */
public final class CaptionTask implements DownstreamTask<CaptionBatch> {
  /** The validated {@code caption { }} section. */
  public record Options(int beamSize, int minLength, int maxLength, boolean scst, int scstBeams, String prompt) {}

  private final FinetuneConfig config;
  private final Options options;

  public CaptionTask(FinetuneConfig config) {
    this.config = config;
    this.options = options(config.file().getCaption(), config.model().text().maxPositions());
  }

  /** Validates the section; every error names its key. */
  static Options options(CaptionOptions c, int maxPositions) {
    Options o = new Options(c.hasBeamSize() ? c.getBeamSize() : 5, c.hasMinLength() ? c.getMinLength() : 8,
        c.hasMaxLength() ? c.getMaxLength() : 25, c.getScst(), c.hasScstBeams() ? c.getScstBeams() : 5,
        c.getPrompt().strip());
    if (o.beamSize() < 1) throw new IllegalArgumentException("caption.beam_size must be >= 1, got " + o.beamSize());
    if (o.minLength() < 0) throw new IllegalArgumentException("caption.min_length must be >= 0, got " + o.minLength());
    if (o.maxLength() < 1) throw new IllegalArgumentException("caption.max_length must be >= 1, got " + o.maxLength());
    if (o.minLength() > o.maxLength()) {
      throw new IllegalArgumentException("caption.min_length (" + o.minLength() + ") must be <= caption.max_length ("
          + o.maxLength() + ")");
    }
    int promptWords = o.prompt().isEmpty() ? 0 : o.prompt().split("\\s+").length;
    if (o.maxLength() + 1 + promptWords > maxPositions) {
      throw new IllegalArgumentException("caption.max_length " + o.maxLength() + " + [CLS]"
          + (promptWords > 0 ? " + the prompt's " + promptWords + " words" : "") + " exceeds the model's "
          + "max_position_embeddings " + maxPositions);
    }
    if (c.hasScstBeams() && !o.scst()) {
      throw new IllegalArgumentException("caption.scst_beams is set but caption.scst is not true");
    }
    if (o.scstBeams() < 2) {
      throw new IllegalArgumentException("caption.scst_beams must be >= 2 (the baseline is the mean reward of the "
          + "image's hypotheses), got " + o.scstBeams());
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

  /**
   * The prompt's token ids; a prompt word the vocabulary lacks (it would become [UNK]) or a prompt longer than
   * {@code data.max_tokens} leaves room for is refused, naming the word.
   */
  public long[] promptIds(BertTokenizer tokenizer) {
    if (options.prompt().isEmpty()) return new long[0];
    long[] ids = Arrays.stream(tokenizer.tokenIds(options.prompt())).asLongStream().toArray();
    long unk = tokenizer.vocabulary().unkId();
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == unk) {
        throw new IllegalArgumentException("caption.prompt \"" + options.prompt() + "\": word " + (i + 1)
            + " is not in the vocabulary");
      }
    }
    if (ids.length + 2 >= config.data().maxTokens()) {
      throw new IllegalArgumentException("caption.prompt \"" + options.prompt() + "\" has " + ids.length
          + " tokens: data.max_tokens " + config.data().maxTokens() + " leaves no room for the caption");
    }
    return ids;
  }

  /** The captioning head over {@code model} with this config's decoding settings and prompt. */
  public CaptionHead head(MPlug model, BertTokenizer tokenizer) {
    return new CaptionHead(model, generation(tokenizer.vocabulary()), promptIds(tokenizer));
  }

  @Override
  public TrainingTask<CaptionBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    CaptionHead head = head(model, tokenizer);
    if (!options.scst()) return new CaptionTraining(head);
    return new SelfCriticalTraining(head, tokenizer, SelfCriticalTraining.references(config.data().annotations(),
        config.data().root()), options.scstBeams());
  }

  @Override
  public Batches<CaptionBatch> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    return CaptionData.open(config.data(), config.model().vision().imageRes(), tokenizer, options.prompt(), seed, rank,
        worldSize);
  }

  @Override
  public TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    return CaptionEvaluation.run(head(model, tokenizer), tokenizer, set);
  }
}
