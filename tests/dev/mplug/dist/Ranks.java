package dev.mplug.dist;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Test support: ranks as separate JVMs on 127.0.0.1, started by the project's {@link Launcher}. */
final class Ranks {
  private Ranks() {}

  /** What a launch printed and returned. */
  record Outcome(int status, String output, String errors) {}

  /** A port nobody listens on right now. */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The command line of a JVM running {@code mainClass} on the test class path (surefire runs in the checkout). */
  static List<String> java(String mainClass, String... args) {
    try {
      String deps = Files.readString(Path.of("target/classpath.txt")).strip();
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "--enable-native-access=ALL-UNNAMED", "-Xss4m", "-Xmx1g", "-cp",
          "target/test-classes:target/classes:" + deps, mainClass));
      cmd.addAll(List.of(args));
      return cmd;
    } catch (IOException e) {
      throw new UncheckedIOException("the test needs target/classpath.txt (built by mvn)", e);
    }
  }

  /** One rank started alone (to give ranks different arguments, or to kill one); its output is collected. */
  record Rank(Process process, StringBuffer output, Thread pump) {
    /** Waits up to {@code seconds} for the end; returns the status, or -1 (and kills it) when it is still running. */
    int await(long seconds) throws InterruptedException {
      if (process.waitFor(seconds, TimeUnit.SECONDS)) {
        pump.join(2000);
        return process.exitValue();
      }
      process.destroyForcibly().waitFor();
      return -1;
    }

    /** The last non-blank line it printed. */
    String lastLine() {
      String[] lines = output.toString().strip().split("\n");
      return lines[lines.length - 1];
    }
  }

  /** Starts rank {@code rank} of {@code world} with the master on 127.0.0.1:{@code port}. */
  static Rank start(int rank, int world, int port, List<String> command, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(Map.of("RANK", "" + rank, "LOCAL_RANK", "" + rank, "WORLD_SIZE", "" + world,
        "LOCAL_WORLD_SIZE", "" + world, "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "" + port,
        "MPLUG_DIST_TIMEOUT", "30", "OPENBLAS_NUM_THREADS", "1"));
    pb.environment().putAll(env);
    Process p = pb.start();
    StringBuffer out = new StringBuffer();
    Thread pump = Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) out.append(line).append('\n');
      } catch (IOException e) {
        // the process ended
      }
    });
    return new Rank(p, out, pump);
  }

  /** Runs {@code command} as {@code nproc} ranks with a short collective timeout and one thread each. */
  static Outcome launch(int nproc, int port, List<String> command, Map<String, String> env) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> all = new HashMap<>(Map.of("MPLUG_DIST_TIMEOUT", "30", "OPENBLAS_NUM_THREADS", "1"));
    all.putAll(env);
    int status = new Launcher(new Launcher.Plan(nproc, 1, 0, "127.0.0.1", port, command), all)
        .run(new PrintStream(out, true), new PrintStream(err, true));
    return new Outcome(status, out.toString(), err.toString());
  }
}
