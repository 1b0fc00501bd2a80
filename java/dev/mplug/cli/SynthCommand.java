package dev.mplug.cli;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mplug synth}: writes the synthetic shapes world (images, videos, annotation files, vocab.txt). */
@Command(name = "synth", mixinStandardHelpOptions = true,
    description = "Generate the synthetic shapes world: JPEG images of coloured shapes with captions, VQA, "
        + "retrieval and referring-expression annotations, and Motion-JPEG AVI clips of moving shapes with captions "
        + "and questions, in the official annotation formats, plus a BERT-layout vocab.txt covering their words. "
        + "Same options, same files.")
public final class SynthCommand implements Callable<Integer> {
  @Option(names = "--out", required = true, description = "Output directory (created if missing).")
  Path out;

  @Option(names = "--images", required = true, description = "Number of images (>= 2; the last 10%% are the test "
      + "split).")
  int images;

  @Option(names = "--videos", defaultValue = "0", description = "Number of video clips (default: ${DEFAULT-VALUE}).")
  int videos;

  @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--res", defaultValue = "128", description = "Image and frame side in pixels, 32..1024 "
      + "(default: ${DEFAULT-VALUE}).")
  int res;

  @Option(names = "--test-fraction", defaultValue = "0.1", description = "Share of images in the test split, "
      + "(0, 0.5] (default: ${DEFAULT-VALUE}).")
  double testFraction;

  @Option(names = "--frames", defaultValue = "16", description = "Frames per clip, 2..256 (default: "
      + "${DEFAULT-VALUE}).")
  int frames;

  @Override
  public Integer call() {
    ShapesWorld.Config config = new ShapesWorld.Config(images, videos, seed, res, testFraction, frames);
    long t0 = System.nanoTime();
    ShapesWorld.Summary s = ShapesWorld.generate(out, config);
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("shapes world in %s (%.1f s)%n", out, seconds);
    System.out.printf("  images      %d train, %d test (%d x %d px)%n", s.trainImages(), s.testImages(), res, res);
    System.out.printf("  captions    %d%n", s.captions());
    System.out.printf("  questions   %d%n", s.questions());
    System.out.printf("  expressions %d%n", s.expressions());
    System.out.printf("  nlvr2       %d image pairs with a statement%n", s.statements());
    System.out.printf("  snli-ve     %d hypotheses%n", s.hypotheses());
    System.out.printf("  videos      %d (%d frames each), %d questions%n", s.videos(), frames, s.videoQuestions());
    System.out.printf("  vocabulary  %d tokens (%s, BERT layout)%n", s.vocabulary(), SynthFiles.VOCAB);
    return 0;
  }
}
