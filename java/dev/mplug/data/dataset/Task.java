package dev.mplug.data.dataset;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The tasks whose official annotation formats this project reads, by their command-line names. */
public enum Task {
  PRETRAIN("pretrain"),
  CAPTION("caption"),
  VQA("vqa"),
  RETRIEVAL("retrieval"),
  RETRIEVAL_EVAL("retrieval-eval"),
  GROUNDING("grounding"),
  VIDEO_CAPTION("video-caption"),
  VIDEO_QA("video-qa"),
  NLVR2("nlvr2"),
  SNLI_VE("snli-ve");

  private final String cliName;

  Task(String cliName) {
    this.cliName = cliName;
  }

  public String cliName() {
    return cliName;
  }

  /** The task named {@code name} (its command-line name or enum name, any case). */
  public static Task named(String name) {
    String n = name.strip().toLowerCase(Locale.ROOT);
    for (Task t : values()) {
      if (t.cliName.equals(n) || t.name().toLowerCase(Locale.ROOT).equals(n)) return t;
    }
    throw new IllegalArgumentException("unknown task \"" + name + "\"; one of " + names());
  }

  public static String names() {
    return Arrays.stream(values()).map(Task::cliName).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return cliName;
  }
}
