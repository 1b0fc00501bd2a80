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

/** {@code mplug verify LEFT RIGHT "statement"}: the verdict of an NLVR2 checkpoint on a pair of images. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Judge whether a statement is true of a pair of images with an NLVR2 checkpoint: prints True or "
        + "False and its probability, or JSON with --json.")
public final class VerifyCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "LEFT", description = "The left image file.")
  Path left;

  @Parameters(index = "1", paramLabel = "RIGHT", description = "The right image file.")
  Path right;

  @Parameters(index = "2", paramLabel = "STATEMENT", description = "The sentence, e.g. \"both images show a star\".")
  String statement;

  @Mixin ModelOptions model;

  @Option(names = "--json", description = "Print {\"left\", \"right\", \"statement\", \"label\", \"probabilities\"} "
      + "as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Inputs.requireFile(left, "left image");
    Inputs.requireFile(right, "right image");
    if (statement.isBlank()) throw new IllegalArgumentException("STATEMENT is empty");
    Judgement j;
    try (MPlugModel m = model.builder(Task.NLVR2).build()) {
      j = m.verify(ImageInput.of(left), ImageInput.of(right), statement);
    }
    Verdicts.print(j, json, "left", left.toString(), "right", right.toString(), "statement", statement);
    return 0;
  }
}
