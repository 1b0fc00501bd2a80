package dev.mplug.api;

import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.TrainedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What an {@link MPlugModel.Builder} asks for, resolved before the weights are read: the task the model serves, the
 * fine-tuning config overrides its decoding options amount to (validated by the task, as a config is), and the
 * vocabulary file.
 */
final class TaskChoice {
  private TaskChoice() {}

  /**
   * The task given, which a fine-tuned checkpoint folder's must match (or be its image / video form); else the task
   * the folder records; otherwise the task whose parts the checkpoint's config builds, where only one task builds them.
   */
  static Task task(MPlugModel.Builder b, MPlugConfig given) {
    Path checkpoint = b.checkpoint;
    Optional<Task> stored = TrainedModel.storedTask(checkpoint).map(Task::parse);
    if (b.task != null && stored.isPresent() && stored.get().head() != b.task.head()) {
      throw new IllegalArgumentException("checkpoint " + checkpoint + " was fine-tuned for " + stored.get()
          + ": a " + b.task + " model needs a checkpoint of " + b.task.head()
          + (b.task.head() == b.task ? "" : " or " + b.task) + " (or a pretrained one)");
    }
    if (b.task != null) return b.task;
    if (stored.isPresent()) return stored.get();
    MPlugConfig c = given != null ? given : TrainedModel.storedConfig(checkpoint);
    Set<Part> parts = c.parts();
    boolean decoder = parts.contains(Part.DECODER);
    boolean encoder = parts.contains(Part.TEXT_ENCODER);
    if (decoder && !encoder) return Task.CAPTION;
    if (!decoder && parts.contains(Part.ITC_ITM_HEADS)) return Task.RETRIEVAL;
    throw new IllegalArgumentException("checkpoint " + checkpoint + " builds the parts " + parts.stream().sorted()
        .toList() + ", which serve more than one task: give the task (" + String.join(", ",
        Arrays.stream(Task.values()).map(Task::label).toList()) + ")");
  }

  /** The task options of the builder as fine-tuning config overrides (validated by the task, as a config is). */
  static List<String> overrides(MPlugModel.Builder b, Task task) {
    List<String> out = new ArrayList<>();
    switch (task) {
      case VQA -> {
        if (b.beamSize != null) out.add("vqa.beam_size=" + b.beamSize);
        if (b.maxLength != null) out.add("vqa.max_answer_length=" + b.maxLength);
      }
      case CAPTION, VIDEO_CAPTION -> {
        if (b.beamSize != null) out.add("caption.beam_size=" + b.beamSize);
        if (b.maxLength != null) {
          out.add("caption.max_length=" + b.maxLength);
          out.add("caption.min_length=" + Math.min(8, b.maxLength));
        }
      }
      case RETRIEVAL, VIDEO_RETRIEVAL -> {
        if (b.topK != null) out.add("retrieval.k=" + b.topK);
      }
      case VIDEO_QA -> {
        if (b.topK != null) out.add("vqa.answer_list_k=" + b.topK);
        if (b.answerFile != null) {
          if (!Files.isRegularFile(b.answerFile)) {
            throw new IllegalArgumentException("answer list " + b.answerFile + " does not exist");
          }
          out.add("vqa.answer_list=" + b.answerFile);
        } else if (b.answers == null) {
          throw new IllegalArgumentException("video-qa ranks an answer list, which a checkpoint does not record: give "
              + "it (answers(...), --answers FILE: a JSON list, or the official train_ans2label.json)");
        }
      }
      case GROUNDING, SNLI_VE, NLVR2 -> { }
    }
    if (b.frames != null) out.add("video.frames=" + b.frames);
    if ((b.beamSize != null || b.maxLength != null) && !Set.of(Task.VQA, Task.CAPTION, Task.VIDEO_CAPTION)
        .contains(task)) {
      throw new IllegalArgumentException("beam size and max length are for vqa, caption and video-caption models, "
          + "not " + task);
    }
    if (b.topK != null && task.head() != Task.RETRIEVAL && task != Task.VIDEO_QA) {
      throw new IllegalArgumentException("top k is for retrieval, video-retrieval and video-qa models, not " + task);
    }
    if (b.frames != null && !task.video()) {
      throw new IllegalArgumentException("frames are for video models, not " + task);
    }
    if ((b.answers != null || b.answerFile != null) && task != Task.VIDEO_QA) {
      throw new IllegalArgumentException("an answer list is for video-qa models, not " + task);
    }
    return out;
  }

  static Path vocabFile(MPlugModel.Builder b) {
    Path dir = Files.isDirectory(b.checkpoint) ? b.checkpoint : b.checkpoint.toAbsolutePath().getParent();
    Path vocab = b.vocab != null ? b.vocab : dir.resolve("vocab.txt");
    if (!Files.isRegularFile(vocab)) {
      throw new IllegalArgumentException("vocab " + vocab + " does not exist (the model's BERT vocab.txt; give it "
          + "with vocab(...) / --vocab)");
    }
    return vocab;
  }
}
