package dev.mplug.data.dataset;

import java.util.List;
import java.util.Locale;

/** SNLI-VE: does the image entail, contradict or leave open the sentence. */
public record SnliVeSample(String image, String sentence, Entailment label) implements Sample {
  /** The three classes with the official class ids (contradiction 0, neutral 1, entailment 2). */
  public enum Entailment {
    CONTRADICTION, NEUTRAL, ENTAILMENT;

    public int classId() {
      return ordinal();
    }

    public String text() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  static SnliVeSample parse(Annotation a) {
    String label = a.string("label");
    Entailment value = switch (label) {
      case "entailment" -> Entailment.ENTAILMENT;
      case "neutral" -> Entailment.NEUTRAL;
      case "contradiction" -> Entailment.CONTRADICTION;
      default -> throw a.bad("field \"label\" must be \"entailment\", \"neutral\" or \"contradiction\", got \""
          + label + "\"");
    };
    return new SnliVeSample(a.relativePath("image"), a.string("sentence"), value);
  }

  @Override
  public List<String> media() {
    return List.of(image);
  }

  @Override
  public Task task() {
    return Task.SNLI_VE;
  }
}
