package dev.mplug.cli;

import dev.mplug.torch.ComputeDevice;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --device cpu | cuda:N} for the training commands: it overrides the config's {@code train.device}, and the
 * device is checked before any data is read (a one-line error naming what to install when CUDA is not there).
 */
final class DeviceOption {
  @Option(names = "--device", paramLabel = "cpu|cuda:N", description = "Where to train: cpu or cuda:N (overrides "
      + "train.device; CUDA needs the GPU libtorch: mvn -Pgpu package).")
  String device;

  /** Adds {@code train.device=...} to {@code overrides} when {@code --device} was given. */
  void addOverride(List<String> overrides) {
    if (device != null) overrides.add("train.device=" + ComputeDevice.parse(device, "--device").label());
  }

  /** Fails now (one line) when {@code configured} (the config's device after the overrides) cannot be used here. */
  static void check(String configured) {
    ComputeDevice.parse(configured, "train.device").requireAvailable("device");
  }
}
