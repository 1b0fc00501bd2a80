package dev.mplug.cli;

import dev.mplug.experiment.CostScaling;
import dev.mplug.experiment.FixedComputeQuality;
import dev.mplug.model.MPlugConfig;
import dev.mplug.task.pretrain.PretrainConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mplug experiment NAME}: runs one of the project's experiments end to end and writes its table and plots. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
    description = "Run an experiment end to end and write its table and plots. Experiments: scaling (the cost of a "
        + "pretraining step against the number of image tokens, for mPLUG's skip-connected fusion, connected "
        + "attention everywhere, co-attention only and lambda layers); quality (those variants and mPLUG + masked "
        + "vision modeling pretrained on the shapes world at one FLOP budget under several seeds, then scored on "
        + "retrieval, VQA and captioning).")
public final class ExperimentCommand implements Callable<Integer> {
  static final List<String> NAMES = List.of("scaling", "quality");

  @Parameters(index = "0", paramLabel = "NAME", description = "The experiment: ${COMPLETION-CANDIDATES}.",
      completionCandidates = Names.class)
  String name;

  @Option(names = "--model", defaultValue = "model-demo", description = "The base model config (default: "
      + "${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--sizes", defaultValue = "64,128,256", split = ",", description = "scaling: image sides in pixels "
      + "(multiples of the patch size; default: ${DEFAULT-VALUE}).")
  int[] sizes;

  @Option(names = "--batch", defaultValue = "4", description = "scaling: batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--steps", defaultValue = "3", description = "scaling: measured steps per point, after one warm-up "
      + "(default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--budget", defaultValue = "1.0", description = "quality: each variant's pretraining "
      + "budget in TFLOP of model FLOPs (default: ${DEFAULT-VALUE}).")
  double budget;

  @Option(names = "--seeds", defaultValue = "3", description = "quality: seeds per variant (default: "
      + "${DEFAULT-VALUE}).")
  int seeds;

  @Option(names = "--variants", split = ",", description = "quality: the variants to run (default: all of "
      + "mplug, connected, co-attention, lambda-fusion, lambda-vision, lambda-both, mvm-pixels, mvm-features).")
  List<String> variants;

  @Option(names = "--finetune-steps", defaultValue = "100", description = "quality: fine-tuning steps of VQA "
      + "and of captioning after each pretraining (default: ${DEFAULT-VALUE}).")
  int finetuneSteps;

  @Option(names = "--images", defaultValue = "1000", description = "quality: images in the shapes world it creates "
      + "under --out (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(names = "--out", defaultValue = "runs/experiments", description = "Where NAME/table.md and the PNG plots "
      + "go (default: ${DEFAULT-VALUE}).")
  Path out;

  static final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return NAMES.iterator();
    }
  }

  @Override
  public Integer call() throws Exception {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException("experiment \"" + name + "\" is not one of " + NAMES);
    }
    return name.equals("quality") ? quality() : scaling();
  }

  private int quality() throws Exception {
    MPlugConfig base = PretrainConfig.modelConfig(model);
    List<FixedComputeQuality.Variant> all = FixedComputeQuality.variants(base);
    List<FixedComputeQuality.Variant> chosen = variants == null ? all : FixedComputeQuality.select(all, variants);
    FixedComputeQuality.Settings s = new FixedComputeQuality.Settings(budget * 1e12, seeds, images, finetuneSteps,
        finetuneSteps, 100, 200, 50);
    Path dir = out.resolve(name);
    List<FixedComputeQuality.Run> runs = FixedComputeQuality.run(chosen, s, dir, System.err);
    int total = runs.size();
    System.out.println(FixedComputeQuality.header(s, total, total) + "\n");
    System.out.print(FixedComputeQuality.table(chosen, runs));
    System.out.println("\nwritten: " + dir.resolve("table.md") + ", " + dir.resolve("quality.png")
        + " (each run's logs and checkpoints under " + dir.resolve("runs") + ")");
    return 0;
  }

  private int scaling() throws Exception {
    if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
    if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    MPlugConfig base = PretrainConfig.modelConfig(model);
    for (int s : sizes) {
      if (s < base.vision().patchSize() || s % base.vision().patchSize() != 0) {
        throw new IllegalArgumentException("--sizes: " + s + " is not a positive multiple of the patch size "
            + base.vision().patchSize());
      }
    }
    List<CostScaling.Row> rows = CostScaling.run(CostScaling.variants(base), sizes, batch, 1, steps, 7, System.err);
    String header = String.format(Locale.ROOT, "Pretraining step cost (model %s, batch %d, 1 intra-op thread, median "
        + "of %d steps after 1 warm-up; sizes %s px)", model, batch, steps, Arrays.toString(sizes));
    Path dir = out.resolve(name);
    CostScaling.write(dir, rows, header);
    System.out.println(header + "\n");
    System.out.print(CostScaling.table(rows));
    System.out.println("\nwritten: " + dir.resolve("table.md") + ", " + dir.resolve("time.png") + ", "
        + dir.resolve("flops.png"));
    return 0;
  }
}
