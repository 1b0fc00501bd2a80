package dev.mplug.cli;

import dev.mplug.api.ImageInput;
import dev.mplug.api.Judgement;
import dev.mplug.api.MPlugModel;
import dev.mplug.api.Task;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mplug entail IMG "hypothesis"}: the verdict of a visual-entailment (SNLI-VE) checkpoint. */
@Command(name = "entail", mixinStandardHelpOptions = true,
    description = "Judge whether an image entails a sentence with an SNLI-VE checkpoint: prints entailment, neutral "
        + "or contradiction and its probability, or JSON with --json.")
public final class EntailCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "IMG", description = "The premise image file.")
  Path image;

  @Parameters(index = "1", paramLabel = "HYPOTHESIS", description = "The sentence, e.g. \"there is a red circle\".")
  String hypothesis;

  @Mixin ModelOptions model;

  @Option(names = "--json", description = "Print {\"image\", \"hypothesis\", \"label\", \"probabilities\"} as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Inputs.requireFile(image, "image");
    if (hypothesis.isBlank()) throw new IllegalArgumentException("HYPOTHESIS is empty");
    Judgement j;
    try (MPlugModel m = model.builder(Task.SNLI_VE).build()) {
      j = m.entail(ImageInput.of(image), hypothesis);
    }
    Verdicts.print(j, json, "image", image.toString(), "hypothesis", hypothesis);
    return 0;
  }
}
