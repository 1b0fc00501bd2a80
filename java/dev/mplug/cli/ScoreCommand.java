package dev.mplug.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code mplug score}: scores a results file against its annotations with the metrics of the reference tools
 * (coco-caption, the VQA v2 vqaEval, the grounding accuracy); the report is JSON on standard output.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
    description = "Score a results file against annotations as the reference tools do; JSON report on stdout.",
    subcommands = {ScoreCaptionCommand.class, ScoreVqaCommand.class, ScoreGroundingCommand.class})
public final class ScoreCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
