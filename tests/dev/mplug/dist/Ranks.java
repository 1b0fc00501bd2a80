package dev.mplug.dist;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
