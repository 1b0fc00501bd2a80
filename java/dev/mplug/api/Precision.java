package dev.mplug.api;

/**
 * The arithmetic of inference: fp32, or bf16 through CPU autocast (matmuls in bf16, the rest and the weights in
 * fp32). bf16 is faster only on CPUs with bf16 instructions (AVX512-BF16, AMX); elsewhere libtorch emulates it and it
 * is slower. Answers in bf16 may differ from fp32 ones where two candidates score almost alike.
 */
public enum Precision {
  FP32,
  BF16;

  /** The runtime's precision of the same name (qualified: the two enums share their name). */
  dev.mplug.torch.Precision torch() {
    return this == BF16 ? dev.mplug.torch.Precision.BF16 : dev.mplug.torch.Precision.FP32;
  }
}
