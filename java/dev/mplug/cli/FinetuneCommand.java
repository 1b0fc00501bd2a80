package dev.mplug.cli;

import dev.mplug.dist.DistributedEnvironment;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.FinetuneRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mplug finetune}: fine-tunes a downstream task (VQA, captioning, retrieval, grounding). */
@Command(name = "finetune", mixinStandardHelpOptions = true,
    description = "Fine-tune mPLUG on a downstream task from a config (protobuf text, see "
        + "java/proto/mplug/finetune_config.proto), validated before any compute; the evaluation set is scored before "
        + "and after and at every checkpoint (the best is kept), the final results are written in the official "
        + "format. Shipped configs: <task>-demo, <task>-base, <task>-large.")
public final class FinetuneCommand implements Callable<Integer> {
  @Option(names = "--task", required = true, description = "vqa | caption | retrieval | grounding | snli-ve | nlvr2 "
      + "| video-retrieval | video-qa | video-caption (must match the config's task).")
  String task;

  @Option(names = "--config", required = true, description = "Config file or shipped config name.")
  String config;

  @Option(names = "--init", paramLabel = "CHECKPOINT", description = "Starting weights (overrides init.checkpoint): a "
      + "pretrained or fine-tuned mPLUG (trainer checkpoint folder, .safetensors or official .pth).")
  Path init;

  @Option(names = "--resume", description = "Continue from the newest complete checkpoint in the output folder.")
  boolean resume;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config field, e.g. --set train.lr=1e-5 "
      + "(repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--until-step", description = "Stop (with a checkpoint) after this step; continue with --resume.")
  Long untilStep;

  @Option(names = "--compare-untrained", description = "Also score the model with random weights first.")
  boolean compareUntrained;

  @Mixin ProfileOption profile;

  @Mixin DeviceOption device;

  @Override
  public Integer call() {
    List<String> sets = new ArrayList<>(overrides);
    if (init != null) sets.add("init.checkpoint=" + init);
    device.addOverride(sets);
    FinetuneConfig cfg = FinetuneConfig.load(config, sets);
    DeviceOption.check(cfg.train().device());
    if (!cfg.task().equals(task)) {
      throw new IllegalArgumentException("--task " + task + " but the config " + config + " is for task "
          + cfg.task());
    }
    FinetuneRun.Report report = profile.record("finetune", System.out, () -> FinetuneRun.run(cfg,
        new FinetuneRun.Options(resume, untilStep == null ? Long.MAX_VALUE : untilStep, compareUntrained), System.out));
    if (DistributedEnvironment.fromEnvironment().rank() == 0) FinetuneRun.printTable(report, System.out);
    return 0;
  }
}
