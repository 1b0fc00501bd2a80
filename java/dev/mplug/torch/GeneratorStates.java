package dev.mplug.torch;

/**
 * The states of the default generators a run draws from: the CPU's (data-side draws, masks drawn on the host) and,
 * for a run on a CUDA device, that device's (dropout and sampling in kernels there). An evaluation inside training
 * is bracketed by {@link #capture} and {@link #restore}, so training continues as if it had not run, on either
 * device.
 *
 * @param device the run's device
 * @param cpu the CPU generator's state
 * @param cuda the state of {@code device}'s generator; null on the CPU
 */
public record GeneratorStates(ComputeDevice device, byte[] cpu, byte[] cuda) {
  /** The generators' states now, for a run on {@code device}. */
  public static GeneratorStates capture(ComputeDevice device) {
    return new GeneratorStates(device, TorchRuntime.rngState(ComputeDevice.CPU),
        device.cuda() ? TorchRuntime.rngState(device) : null);
  }

  /** Puts the generators back in the captured states. */
  public void restore() {
    TorchRuntime.setRngState(ComputeDevice.CPU, cpu);
    if (cuda != null) TorchRuntime.setRngState(device, cuda);
  }
}
