package dev.mplug.cli;

import dev.mplug.torch.ComputeDevice;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --device cpu | cuda:N} on every command that runs the model: the training commands (pretrain, finetune,
 * demo) turn it into the config's {@code train.device}, the others (evaluate and the inference commands) load the
 * model there. Either way the device is checked before any data is read or anything written: a one-line error
 * naming what to install when CUDA is not there.
 */
final class DeviceOption {
  @Option(names = "--device", paramLabel = "cpu|cuda:N", description = "Where the model runs: cpu (default) or "
      + "cuda:N (training: overrides train.device); CUDA needs the GPU libtorch (mvn -Pgpu package).")
  String device;

  /** The device asked for (the CPU when none), refused now when this libtorch cannot use it. */
  ComputeDevice resolve() {
    return device == null ? ComputeDevice.CPU : ComputeDevice.parse(device, "--device").requireAvailable("--device");
  }

  /** Adds {@code train.device=...} to {@code overrides} when {@code --device} was given. */
  void addOverride(List<String> overrides) {
    if (device != null) overrides.add("train.device=" + ComputeDevice.parse(device, "--device").label());
  }

  /** Fails now (one line) when {@code configured} (the config's device after the overrides) cannot be used here. */
  static void check(String configured) {
    ComputeDevice.parse(configured, "train.device").requireAvailable("device");
  }
}
