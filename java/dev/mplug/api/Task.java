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
  NLVR2("nlvr2");

  private final String label;

  Task(String label) {
    this.label = label;
  }

  /** "vqa", "caption", "retrieval", "grounding", "snli-ve" or "nlvr2". */
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

  @Override
  public String toString() {
    return label;
  }
}
