package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class InfoCommandTest {
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

  @Test
  void infoReportsVersionsThreadsExtensionAndCuda() {
    String out = runCapturing("info", "--threads", "1");
    assertTrue(out.contains("libtorch          2.10"), out);
    assertTrue(out.contains("javacpp           1.5.13"), out);
    assertTrue(out.contains("opencv            4.13"), out);
    assertTrue(out.contains("threads           1 intra-op"), out);
    assertTrue(out.contains("native extension  loaded from"), out);
    assertTrue(out.contains("cuda              not available"), out);
  }

  @Test
  void everyCommandHasHelp() {
    String out = runCapturing("info", "--help");
    assertTrue(out.contains("Usage: mplug info"), out);
    out = runCapturing("--help");
    assertTrue(out.contains("info") && out.contains("jmh"), out);
  }
}
