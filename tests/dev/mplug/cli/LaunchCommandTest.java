package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code mplug launch} and {@code mplug bench --nproc} from the CLI: the ranks are this JVM's command line (JDK,
 * flags, class path) running another mplug command.
 */
class LaunchCommandTest {
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void launchRunsTheCommandOnEveryRankWithItsPrefix() throws IOException {
    String out = InfoCommandTest.runCapturing("launch", "--nproc", "2", "--master", "127.0.0.1:" + freePort(), "info",
        "--threads", "1");
    assertTrue(out.contains("[rank 0] libtorch") && out.contains("[rank 1] libtorch"), out);
  }

  @Test
  void aFailingRankIsNamedAndItsStatusReturned() throws IOException {
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int status;
    try {
      status = Main.run("launch", "--nproc", "2", "--master", "127.0.0.1:" + freePort(), "pretrain", "--config",
          "no-such-config");
    } finally {
      System.setErr(old);
    }
    assertEquals(2, status, err.toString());
    assertTrue(err.toString().matches("(?s)mplug launch: rank [01] \\(pid \\d+\\) exited with status 2, its last line: "
        + "mplug pretrain: config no-such-config is neither a file nor a shipped config.*"), err.toString());
  }

  @Test
  void benchComparesOneAndTwoRanks() {
    String out = InfoCommandTest.runCapturing("bench", "--model", "model-demo", "--nproc", "2", "--batch", "4",
        "--steps", "1", "--warmup", "0");
    assertTrue(out.matches("(?s).*\\| 1 x 1 \\| [0-9.]+ \\| [0-9.]+ \\| 1\\.00x \\|.*\\| 2 x 1 \\| [0-9.]+ \\| [0-9.]+ "
        + "\\| [0-9.]+x \\|.*all-reduce of the gradient \\(2\\.5 MB fp32\\) on 2 ranks.*"), out);
  }
}
