package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.nativeops.NativeLibrary;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TorchRuntime;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code mplug info}: the rows and their consistency with the runtime; no version or machine is assumed. */
class InfoCommandTest {
  private static final String VERSION = "\\d+\\.\\d+(\\.\\d+)*([-+.].*)?";

  static String runCapturing(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, Main.run(args), "exit code of mplug " + String.join(" ", args));
    } finally {
      System.setOut(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  /** "key   value" rows: the key is the first 17 characters. */
  static Map<String, String> rows(String out) {
    Map<String, String> rows = new LinkedHashMap<>();
    out.lines().forEach(l -> rows.put(l.substring(0, 17).strip(), l.substring(18)));
    return rows;
  }

  @Test
  void infoReportsVersionsThreadsExtensionAndCuda() {
    String out = runCapturing("info", "--threads", "1");
    Map<String, String> rows = rows(out);
    assertEquals(List.of("java", "libtorch", "javacpp", "opencv", "cpu capability", "bf16", "cores", "threads",
        "native extension", "cuda", "devices"), List.copyOf(rows.keySet()), out);
    assertTrue(rows.get("java").startsWith(System.getProperty("java.version") + " ("), out);
    assertEquals(TorchRuntime.libtorchVersion(), rows.get("libtorch"));
    assertTrue(rows.get("libtorch").matches(VERSION), out);
    assertEquals(TorchRuntime.javacppVersion(), rows.get("javacpp"));
    assertTrue(rows.get("javacpp").matches(VERSION), out);
    assertTrue(rows.get("opencv").matches(VERSION), out);
    assertEquals(TorchRuntime.cpuCapability(), rows.get("cpu capability"));
    assertEquals(Precision.cpuHasBf16Instructions(), rows.get("bf16").startsWith("hardware ("), out);
    assertEquals(!Precision.cpuHasBf16Instructions(), rows.get("bf16").contains("slower than fp32"), out);
    assertEquals(String.valueOf(Runtime.getRuntime().availableProcessors()), rows.get("cores"));
    assertTrue(rows.get("threads").startsWith("1 intra-op"), out);
    assertEquals(NativeLibrary.isAvailable(), rows.get("native extension").startsWith("loaded from "), out);
    assertEquals(TorchRuntime.cudaAvailable(), rows.get("cuda").equals("available"), out);
    assertTrue(rows.get("cuda").equals("available") || rows.get("cuda").startsWith("not available"), out);
    // the values --device accepts: cpu, then cuda:0 ... where libtorch sees devices, else why there are none
    int n = TorchRuntime.cudaDeviceCount();
    assertEquals(n > 0, rows.get("devices").startsWith("cpu, cuda:0"), out);
    if (n == 0) {
      assertEquals(TorchRuntime.gpuBuild() ? "cpu (no CUDA: the GPU libtorch sees no device)"
          : "cpu (no CUDA: this libtorch is the CPU build; mvn -Pgpu package for the GPU one)", rows.get("devices"));
    }
  }

  @Test
  void everyCommandHasHelp() {
    String out = runCapturing("info", "--help");
    assertTrue(out.contains("Usage: mplug info"), out);
    assertTrue(out.contains("--debug"), out);
    out = runCapturing("--help");
    for (String command : List.of("info", "jmh", "synth", "pack", "forward", "pretrain", "demo", "bench")) {
      assertTrue(out.contains("  " + command + " "), command + " in\n" + out);
    }
    assertTrue(out.contains("Exit codes:"), out);
  }
}
