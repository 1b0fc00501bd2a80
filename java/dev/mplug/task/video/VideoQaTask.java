package dev.mplug.task.video;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.VideoQaSample;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.vqa.AnswerList;
import dev.mplug.task.vqa.VqaBatch;
import dev.mplug.task.vqa.VqaHead;
import dev.mplug.task.vqa.VqaSettings;
import dev.mplug.task.vqa.VqaTraining;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Video question answering by answer-list ranking (MSRVTT-QA / MSVD-QA in the paper, {@code --task video-qa}): the
 * VQA model over clips read as {@link VideoStream}s. Fine-tuning is VQA's answer NLL (each question's one answer,
 * weight 1); evaluation ranks the answer list as the official {@code videoqa_mplug.py} (first-token top k, then the
 * full answer likelihood) and scores {@code accuracy}, the % of questions whose best answer equals the reference
 * string (the official metric). The official release only evaluates, zero-shot from the VQA checkpoint.
 *
 * <p>Config: {@code vqa { answer_list answer_list_k }} (the official list is {@code train_ans2label.json}, whose keys
 * are the answers; without one, the distinct answers of {@code data.annotations} in order of first appearance, which
 * is what that file holds); {@code video { frames }} (official 16).
 */
public final class VideoQaTask implements DownstreamTask<VqaBatch> {
  public static final String NAME = "video-qa";

  private final FinetuneConfig config;
  private final VqaSettings settings;
  private final int frames;
  private final List<String> answers;

  /** Validates the sections; an evaluation needs {@code vqa.answer_list} or training data to take the answers from. */
  public VideoQaTask(FinetuneConfig config) {
    this(config, null);
  }

  /**
   * The task ranking {@code answers} (the inference API's list given in Java) in place of {@code vqa.answer_list} or
   * the training file's answers; null = those.
   */
  public VideoQaTask(FinetuneConfig config, List<String> answers) {
    this.config = config;
    this.settings = VqaSettings.of(config.file().getVqa());
    this.frames = VideoClips.frames(config);
    this.answers = answers == null ? null : List.copyOf(answers);
    if (answers != null) {
      if (answers.isEmpty()) throw new IllegalArgumentException("the answer list is empty");
    } else if (settings.answerList() != null) {
      AnswerList.check(settings.answerList());
    } else if (config.data().annotations() == null) {
      throw new IllegalArgumentException("video-qa ranks an answer list: set vqa.answer_list (a JSON list, or the "
          + "official train_ans2label.json) or data.annotations (its answers are the list)");
    }
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
    return VideoQaEvaluation.METRICS;
  }

  /** The {@code vqa { }} section: the answer list file and {@code answer_list_k}. */
  public VqaSettings settings() {
    return settings;
  }

  /** Frames sampled per clip ({@code video.frames}). */
  public int frames() {
    return frames;
  }

  /**
   * The answers this task ranks, tokenised to {@code maxTokens} (the caller closes it): the list given, else
   * {@code vqa.answer_list}, else the training file's distinct answers.
   */
  public AnswerList answerList(BertTokenizer tokenizer, int maxTokens) {
    if (answers != null) return new AnswerList(answers, tokenizer, maxTokens);
    if (settings.answerList() != null) return AnswerList.read(settings.answerList(), tokenizer, maxTokens);
    return new AnswerList(trainingAnswers(), tokenizer, maxTokens);
  }

  /** The VQA head reading clips [B, F, 3, R, R]. */
  public static VqaHead head(MPlug model, BertTokenizer tokenizer) {
    return new VqaHead(model, tokenizer.vocabulary().padId(), clips -> VideoStream.embeds(model, clips));
  }

  @Override
  public TrainingTask<VqaBatch> trainingTask(MPlug model, BertTokenizer tokenizer) {
    return new VqaTraining(head(model, tokenizer), NAME);
  }

  @Override
  public Batches<VqaBatch> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize) {
    return VideoData.questions(config.data(), config.model().vision().imageRes(), frames, tokenizer, seed, rank,
        worldSize);
  }

  @Override
  public TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set) {
    try (AnswerList list = answerList(tokenizer, model.config().text().maxPositions())) {
      return VideoQaEvaluation.evaluate(new VideoAnswering(head(model, tokenizer), tokenizer, list,
          settings.answerListK(), config.data().maxTokens()), set, frames);
    }
  }

  /** The distinct answers of the training file, in order of first appearance. */
  private List<String> trainingAnswers() {
    AnnotationDataset<VideoQaSample> train = AnnotationDataset.videoQa(config.data().annotations(),
        config.data().root());
    Set<String> answers = new LinkedHashSet<>();
    for (int i = 0; i < train.size(); i++) {
      try {
        answers.add(train.get(i).answer());
      } catch (BadSampleException e) {
        // a malformed entry has no answer to contribute (training reports it as a bad sample)
      }
    }
    if (answers.isEmpty()) {
      throw new IllegalArgumentException("data.annotations: " + config.data().annotations() + " holds no answers");
    }
    return List.copyOf(answers);
  }
}
