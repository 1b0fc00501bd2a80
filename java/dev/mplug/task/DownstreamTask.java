package dev.mplug.task;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.train.Batches;
import dev.mplug.train.TrainingTask;
import java.util.EnumSet;
import java.util.List;

/**
 * A downstream task as {@code mplug finetune}, {@code mplug evaluate} and the demo drive it: which parts of mPLUG it
 * uses, its training objective and data (run by the shared {@link dev.mplug.train.Trainer}), and its evaluation,
 * which writes results in the official result format and scores them with the task's reference metrics. One
 * implementation per package under {@code task/} (vqa, caption, retrieval, grounding, snlive, nlvr2; video holds
 * three), built from a validated {@link FinetuneConfig} by {@link Tasks}.
 *
 * @param <B> the task's training batch
 */
public interface DownstreamTask<B> {
  /** The name of {@code --task} and of the config's {@code task:} field. */
  String name();

  /** The parts of mPLUG the task builds (the rest of a pretrained checkpoint is reported as unused). */
  EnumSet<Part> parts();

  /**
   * The metrics {@link #evaluate} reports, higher is better; the first is the headline (the default
   * {@code train.best_metric}).
   */
  List<String> metrics();

  /**
   * Adds the task's own parameters that the official mPLUG model does not have (a classifier) to {@code model},
   * under the names its checkpoints store them by; called on every model the task trains or evaluates, right after
   * it is built and before any weights are loaded. Default: none.
   */
  default void extend(MPlug model) {}

  /** The training objective over {@code model} (built with {@link #parts()}). */
  TrainingTask<B> trainingTask(MPlug model, BertTokenizer tokenizer);

  /** The endless, resumable training stream of this rank's share of {@code data.annotations}. */
  Batches<B> trainingData(BertTokenizer tokenizer, long seed, int rank, int worldSize);

  /**
   * Runs inference over an evaluation file (in eval mode, no gradients; restores the model's mode) and scores it.
   */
  TaskEvaluation evaluate(MPlug model, BertTokenizer tokenizer, FinetuneConfig.Eval set);
}
