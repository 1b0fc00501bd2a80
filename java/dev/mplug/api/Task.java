package dev.mplug.api;

import java.util.Arrays;
import java.util.Locale;

/**
 * The downstream task an {@link MPlugModel} serves; a fine-tuned checkpoint answers one. The names are those of
 * {@code mplug finetune --task} and of a fine-tuning config's {@code task:} field.
 */
public enum Task {
  /** Visual question answering: {@link MPlugModel#answer}. */
  VQA("vqa"),
  /** Image captioning: {@link MPlugModel#caption}. */
  CAPTION("caption"),
  /** Image-text retrieval: {@link MPlugModel#retrieve}, {@link MPlugModel#rank}. */
  RETRIEVAL("retrieval"),
  /** Visual grounding of a referring expression: {@link MPlugModel#ground}. */
  GROUNDING("grounding"),
  /** Visual entailment (SNLI-VE): {@link MPlugModel#entail}. */
  SNLI_VE("snli-ve"),
  /** Statements about image pairs (NLVR2): {@link MPlugModel#verify}. */
  NLVR2("nlvr2"),
  /** Text-video retrieval: {@link MPlugModel#rankClips}, {@code retrieve} of a clip. */
  VIDEO_RETRIEVAL("video-retrieval"),
  /** Video question answering by answer-list ranking: {@link MPlugModel#answer(VideoInput, String)}. */
  VIDEO_QA("video-qa"),
  /** Video captioning: {@link MPlugModel#caption(VideoInput)}. */
  VIDEO_CAPTION("video-caption");

  private final String label;

  Task(String label) {
    this.label = label;
  }

  /** "vqa", "caption", "retrieval", "grounding", "snli-ve", "nlvr2", "video-retrieval", "video-qa", "video-caption". */
  public String label() {
    return label;
  }

  /** The task of a label (case-insensitive); anything else fails naming the choices. */
  public static Task parse(String label) {
    String l = label.strip().toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(t -> t.label.equals(l)).findFirst().orElseThrow(() ->
        new IllegalArgumentException("task \"" + label + "\" is not one of " + Arrays.stream(values())
            .map(Task::label).toList()));
  }

  /** The clip tasks read videos: {@link VideoInput}. */
  public boolean video() {
    return this == VIDEO_RETRIEVAL || this == VIDEO_QA || this == VIDEO_CAPTION;
  }

  /**
   * The image task whose head this task reads clips with (video-qa: vqa, ...); the task itself for the others. A
   * checkpoint of one serves the other: the paper evaluates video QA and retrieval zero-shot from image checkpoints.
   */
  Task head() {
    return switch (this) {
      case VIDEO_RETRIEVAL -> RETRIEVAL;
      case VIDEO_QA -> VQA;
      case VIDEO_CAPTION -> CAPTION;
      default -> this;
    };
  }

  @Override
  public String toString() {
    return label;
  }
}
