package dev.mplug.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.global.torch;

/**
 * The compute precision of a forward pass: fp32, or bf16 through CPU autocast with fp32 master weights.
 *
 * <p>bf16 pays off on a CPU only with bf16 instructions (AVX512-BF16 or AMX-BF16): there oneDNN's bf16 matmul runs
 * about 4x the fp32 rate. Without them libtorch emulates bf16 arithmetic through fp32 plus conversions and a bf16
 * step is slower than an fp32 one (a known PyTorch pitfall); {@link #cpuHasBf16Instructions()} tells which case
 * this machine is.
 */
public enum Precision {
  FP32("fp32", torch.ScalarType.Float, false),
  BF16("bf16", torch.ScalarType.BFloat16, true);

  private static final Path CPUINFO = Path.of("/proc/cpuinfo");
  private static volatile List<String> bf16Flags;

  private final String label;
  private final torch.ScalarType dtype;
  private final boolean autocast;

  Precision(String label, torch.ScalarType dtype, boolean autocast) {
    this.label = label;
    this.dtype = dtype;
    this.autocast = autocast;
  }

  /** "fp32" or "bf16" (case-insensitive, trimmed); anything else fails naming the value and the choices. */
  public static Precision parse(String text) {
    return byLabel(text.strip().toLowerCase(Locale.ROOT)).orElseThrow(() ->
        new IllegalArgumentException("unknown precision '" + text + "' (expected " + labels() + ")"));
  }

  /** The precision whose label is exactly {@code label}, if any (config files spell it exactly). */
  public static Optional<Precision> byLabel(String label) {
    return Arrays.stream(values()).filter(p -> p.label.equals(label)).findFirst();
  }

  /** "fp32 or bf16". */
  public static String labels() {
    return Arrays.stream(values()).map(Precision::label).collect(Collectors.joining(" or "));
  }

  public String label() {
    return label;
  }

  public torch.ScalarType dtype() {
    return dtype;
  }

  /** Whether this precision runs the forward in an autocast region. */
  public boolean autocast() {
    return autocast;
  }

  @Override
  public String toString() {
    return label;
  }

  /** Whether this CPU has bf16 arithmetic in hardware (AVX512-BF16 or AMX-BF16, from /proc/cpuinfo on Linux). */
  public static boolean cpuHasBf16Instructions() {
    return !bf16InstructionFlags().isEmpty();
  }

  /** The bf16 instruction-set flags this CPU reports (e.g. [amx_bf16, avx512_bf16]); empty when it has none. */
  public static List<String> bf16InstructionFlags() {
    List<String> flags = bf16Flags;
    if (flags == null) {
      flags = bf16Flags = bf16InstructionFlags(readCpuFlags());
    }
    return flags;
  }

  /** The bf16 flags among a /proc/cpuinfo {@code flags} set (package-visible for tests). */
  static List<String> bf16InstructionFlags(Set<String> cpuFlags) {
    return cpuFlags.stream().filter(f -> f.equals("avx512_bf16") || f.equals("amx_bf16")).sorted().toList();
  }

  /** A warning for choosing bf16 on a CPU without bf16 instructions, or null when there is nothing to say. */
  public String hardwareWarning() {
    if (this != BF16 || cpuHasBf16Instructions()) return null;
    return "bf16 on a CPU without AVX512-BF16 or AMX-BF16 is emulated and slower than fp32 here; use fp32 unless "
        + "you are checking numerics";
  }

  private static Set<String> readCpuFlags() {
    try {
      if (!Files.isReadable(CPUINFO)) return Set.of();
      return Files.readAllLines(CPUINFO).stream()
          .filter(l -> l.toLowerCase(Locale.ROOT).startsWith("flags"))
          .findFirst()
          .map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).collect(Collectors.toSet()))
          .orElse(Set.of());
    } catch (IOException e) {
      return Set.of();
    }
  }
}
