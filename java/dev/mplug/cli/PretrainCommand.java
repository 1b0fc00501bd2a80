package dev.mplug.cli;

import dev.mplug.dist.DistributedEnvironment;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mplug pretrain}: pretraining with ITC, ITM, MLM and prefix LM. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
    description = "Pretrain mPLUG (ITC + ITM + MLM + prefix LM). The config (protobuf text, see "
        + "java/proto/mplug/pretrain_config.proto) is validated before any compute; shipped configs: pretrain-demo, "
        + "pretrain-tiny, pretrain-base, pretrain-large.")
public final class PretrainCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "Config file or shipped config name.")
  String config;

  @Option(names = "--resume", description = "Continue from the newest complete checkpoint in the output folder "
      + "(the config's init { ... } weights are not loaded then).")
  boolean resume;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config field, e.g. --set train.lr=1e-4 "
      + "--set data.batch_size=8 (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--eval", paramLabel = "FILE", description = "A retrieval evaluation JSON (image, caption list): "
      + "report R@K and MLM accuracy before and after, and score every checkpoint by train.best_metric (default "
      + "r_mean); the best is kept and named by checkpoints/BEST.")
  Path eval;

  @Option(names = "--eval-images", description = "Images of the evaluation file to use (default ${DEFAULT-VALUE}).")
  int evalImages = 100;

  @Option(names = "--until-step", description = "Stop (with a checkpoint) after this step of the schedule; "
      + "continue later with --resume.")
  Long untilStep;

  @Mixin ProfileOption profile;

  @Mixin DeviceOption device;

  @Override
  public Integer call() {
    device.addOverride(overrides);
    PretrainConfig cfg = PretrainConfig.load(config, overrides);
    DeviceOption.check(cfg.train().device());
    PretrainRun.Evaluation evaluation = eval == null ? null
        : new PretrainRun.Evaluation(eval, cfg.data().root(), evalImages, 16);
    PretrainRun.Report report = profile.record("pretrain", System.out, () -> PretrainRun.run(cfg, resume, evaluation,
        System.out, untilStep == null ? Long.MAX_VALUE : untilStep));
    if (DistributedEnvironment.fromEnvironment().rank() == 0) PretrainRun.printTable(report, System.out);
    return 0;
  }
}
