package dev.mplug.cli;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mplug demo}: the README's main job. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Create the synthetic shapes world (if absent), pretrain a small mPLUG on it with ITC, ITM, MLM and "
        + "prefix LM, and print image-text retrieval (ITC top-k re-ranked by ITM) and MLM accuracy before and after. "
        + "About 5-10 minutes on 2 cores; leaves a checkpoint and a TensorBoard log in the output folder.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--data", description = "Where the shapes world lives (default ${DEFAULT-VALUE}).")
  Path data = Path.of("data", "shapes");

  @Option(names = "--out", description = "Output folder (default ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "demo");

  @Option(names = "--images", description = "Images in the shapes world (default ${DEFAULT-VALUE}).")
  int images = 1500;

  @Option(names = "--steps", description = "Training steps (default: the shipped pretrain-demo config's).")
  Long steps;

  @Option(names = "--eval-images", description = "Held-out images for the retrieval evaluation (default "
      + "${DEFAULT-VALUE}).")
  int evalImages = 100;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a field of the pretrain-demo config.")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() {
    ShapesWorld.Summary world = ShapesWorld.ensure(data, ShapesWorld.Config.of(images, 0, 7, 64));
    System.out.println("shapes world: " + world.trainImages() + " training and " + world.testImages()
        + " test images in " + data);
    List<String> sets = new ArrayList<>(List.of("data.annotations=" + data.resolve(SynthFiles.PRETRAIN),
        "data.root=" + data, "output_dir=" + out));
    if (steps != null) sets.add("train.total_steps=" + steps);
    sets.addAll(overrides);
    PretrainConfig cfg = PretrainConfig.load("pretrain-demo", sets);
    PretrainRun.Report report = PretrainRun.run(cfg, false,
        new PretrainRun.Evaluation(data.resolve(SynthFiles.RETRIEVAL_TEST), data, evalImages, 16), System.out);
    PretrainRun.printTable(report, System.out);
    return 0;
  }
}
