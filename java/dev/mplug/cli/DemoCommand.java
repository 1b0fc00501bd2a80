package dev.mplug.cli;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.FinetuneRun;
import dev.mplug.task.Tasks;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainRun;
import dev.mplug.train.CheckpointStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mplug demo}: the README's main job (pretraining on the shapes world), and with {@code --task} the fine-tuning
 * of a downstream task from that pretrained model.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Create the synthetic shapes world (if absent), pretrain a small mPLUG on it with ITC, ITM, MLM and "
        + "prefix LM, and print image-text retrieval (ITC top-k re-ranked by ITM) and MLM accuracy before and after. "
        + "About 5-10 minutes on 2 cores; leaves a checkpoint and a TensorBoard log in the output folder. With --task: "
        + "fine-tune that task from the pretrained demo model (pretraining it first when it is absent) and print its "
        + "metrics for the untrained, pretrained and fine-tuned model.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--data", description = "Where the shapes world lives (default ${DEFAULT-VALUE}).")
  Path data = Path.of("data", "shapes");

  @Option(names = "--out", description = "Output folder of the pretraining (default ${DEFAULT-VALUE}); a task's "
      + "run goes to <out>-<task>.")
  Path out = Path.of("runs", "demo");

  @Option(names = "--task", description = "Fine-tune a downstream task: vqa | caption | retrieval | grounding | "
      + "snli-ve | nlvr2 | video-retrieval | video-qa | video-caption.")
  String task;

  @Option(names = "--images", description = "Images in the shapes world (default ${DEFAULT-VALUE}).")
  int images = 1500;

  @Option(names = "--steps", description = "Training steps (default: the shipped config's).")
  Long steps;

  @Option(names = "--eval-images", description = "Held-out images for the pretraining's retrieval evaluation (default "
      + "${DEFAULT-VALUE}).")
  int evalImages = 100;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a field of the demo config "
      + "(pretrain-demo, or <task>-demo with --task).")
  List<String> overrides = new ArrayList<>();

  @Mixin ProfileOption profile;

  @Mixin DeviceOption device;

  /** Clips of the demo world (the video tasks' data; the last 30 are held out). */
  private static final int VIDEOS = 300;

  @Override
  public Integer call() {
    return profile.record("demo", System.out, this::demo);
  }

  private Integer demo() {
    if (task != null && !Tasks.names().contains(task)) {
      throw new IllegalArgumentException("--task " + task + " is not one of " + Tasks.names());
    }
    device.resolve();   // before the world is written
    ShapesWorld.Summary world = ShapesWorld.ensure(data, ShapesWorld.Config.of(images, VIDEOS, 7, 64));
    System.out.println("shapes world: " + world.trainImages() + " training and " + world.testImages()
        + " test images, " + world.videos() + " clips in " + data);
    if (task == null) {
      pretrain(steps, overrides);
      return 0;
    }
    Optional<Path> pretrained = pretrainedCheckpoint();
    if (pretrained.isEmpty()) {
      System.out.println("no pretrained demo model in " + out + ": pretraining it first (./mplug demo)");
      pretrain(null, List.of());
      pretrained = pretrainedCheckpoint();
    }
    System.out.println("fine-tuning " + task + " from " + pretrained.orElseThrow());
    FinetuneConfig cfg = FinetuneConfig.load(task + "-demo", finetuneSets(pretrained.get()));
    FinetuneRun.Report report = FinetuneRun.run(cfg, new FinetuneRun.Options(false, Long.MAX_VALUE, true),
        System.out);
    FinetuneRun.printTable(report, System.out);
    return 0;
  }

  private void pretrain(Long stepsOverride, List<String> more) {
    List<String> sets = new ArrayList<>(List.of("data.annotations=" + data.resolve(SynthFiles.PRETRAIN),
        "data.root=" + data, "output_dir=" + out));
    if (stepsOverride != null) sets.add("train.total_steps=" + stepsOverride);
    sets.addAll(more);
    device.addOverride(sets);
    PretrainConfig cfg = PretrainConfig.load("pretrain-demo", sets);
    PretrainRun.Report report = PretrainRun.run(cfg, false,
        new PretrainRun.Evaluation(data.resolve(SynthFiles.RETRIEVAL_TEST), data, evalImages, 16), System.out);
    PretrainRun.printTable(report, System.out);
  }

  /** The pretraining's best checkpoint (by its evaluation), else its newest complete one. */
  private Optional<Path> pretrainedCheckpoint() {
    CheckpointStore store = new CheckpointStore(out.resolve("checkpoints"), Integer.MAX_VALUE);
    return store.best().map(CheckpointStore.Best::checkpoint).or(store::latestValid);
  }

  /** The task's demo config pointed at this world (same file names, --data's folder) and the pretrained model. */
  private List<String> finetuneSets(Path pretrained) {
    FinetuneConfig shipped = FinetuneConfig.load(task + "-demo", List.of());
    List<String> sets = new ArrayList<>(List.of("data.root=" + data, "output_dir=" + out + "-" + task,
        "init.checkpoint=" + pretrained, "data.vocab=" + data.resolve(SynthFiles.VOCAB)));
    if (shipped.data().annotations() != null) {
      sets.add("data.annotations=" + data.resolve(shipped.data().annotations().getFileName()));
    }
    if (shipped.eval() != null) {
      sets.add("eval.annotations=" + data.resolve(shipped.eval().annotations().getFileName()));
      sets.add("eval.root=" + data);
    }
    if (steps != null) sets.add("train.total_steps=" + steps);
    sets.addAll(overrides);
    device.addOverride(sets);
    return sets;
  }
}
