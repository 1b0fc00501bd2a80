package dev.mplug.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Starts the ranks of one node as child processes, as torchrun does: each gets the torchrun variables ({@code RANK},
 * {@code LOCAL_RANK}, {@code WORLD_SIZE}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT},
 * {@code TORCHELASTIC_RESTART_COUNT} = 0) and their output is forwarded line by line with a {@code [rank N]} prefix.
 * When a rank ends with a non-zero status (or a signal) the launcher names it (the first to end, when several fail
 * together) and why, stops the other ranks and returns that status; when all end with 0 it returns 0.
 */
public final class Launcher {
  /** How long the other ranks get to exit after SIGTERM before they are killed. */
  private static final long GRACE_MILLIS = 5000;

  /**
   * One node's share of a job.
   *
   * @param command the program every rank runs (the same on each; the rank comes from the environment)
   */
  public record Plan(int nprocPerNode, int nnodes, int nodeRank, String masterAddr, int masterPort,
      List<String> command) {
    public Plan {
      if (nprocPerNode < 1) throw new IllegalArgumentException("--nproc = " + nprocPerNode + " must be >= 1");
      if (nnodes < 1) throw new IllegalArgumentException("--nnodes = " + nnodes + " must be >= 1");
      if (nodeRank < 0 || nodeRank >= nnodes) {
        throw new IllegalArgumentException("--node-rank = " + nodeRank + " must be in [0, --nnodes = " + nnodes + ")");
      }
      if (masterPort < 1 || masterPort > 65535) {
        throw new IllegalArgumentException("--master port " + masterPort + " must be in [1, 65535]");
      }
      if (command.isEmpty()) throw new IllegalArgumentException("launch: no command to run");
      command = List.copyOf(command);
    }

    public int worldSize() {
      return nprocPerNode * nnodes;
    }

    /** The environment of local rank {@code local}. */
    public Map<String, String> environment(int local) {
      Map<String, String> env = new HashMap<>();
      env.put("RANK", Integer.toString(nodeRank * nprocPerNode + local));
      env.put("LOCAL_RANK", Integer.toString(local));
      env.put("WORLD_SIZE", Integer.toString(worldSize()));
      env.put("LOCAL_WORLD_SIZE", Integer.toString(nprocPerNode));
      env.put("GROUP_RANK", Integer.toString(nodeRank));
      env.put("MASTER_ADDR", masterAddr);
      env.put("MASTER_PORT", Integer.toString(masterPort));
      env.put("TORCHELASTIC_RESTART_COUNT", "0");
      return env;
    }
  }

  /** How a rank ended. */
  public record Exit(int rank, long pid, int status) {
    /** "exited with status 2" or "was killed by signal 9 (SIGKILL)". */
    public String reason() {
      if (status > 128 && status < 160) {
        int signal = status - 128;
        String name = switch (signal) {
          case 9 -> " (SIGKILL; out of memory or killed)";
          case 15 -> " (SIGTERM)";
          case 6 -> " (SIGABRT; a native abort)";
          case 11 -> " (SIGSEGV; a native crash)";
          default -> "";
        };
        return "was killed by signal " + signal + name;
      }
      return "exited with status " + status;
    }
  }

  private record Line(int rank, String text) {}

  private final Plan plan;
  private final Map<String, String> extraEnvironment;

  /** @param extraEnvironment further variables for every rank (e.g. MPLUG_DIST_TIMEOUT) */
  public Launcher(Plan plan, Map<String, String> extraEnvironment) {
    this.plan = plan;
    this.extraEnvironment = Map.copyOf(extraEnvironment);
  }

  /**
   * Runs the ranks to the end; forwards their output to {@code out} with a rank prefix and reports a failure on
   * {@code err}. Returns 0 when every rank succeeded, else the first failed rank's status.
   */
  public int run(PrintStream out, PrintStream err) {
    List<Process> processes = new CopyOnWriteArrayList<>();   // read by the shutdown hook too
    BlockingQueue<Line> lines = new ArrayBlockingQueue<>(1024);
    Queue<Integer> exits = new ConcurrentLinkedQueue<>();   // local ranks in the order they ended
    List<Thread> pumps = new ArrayList<>();
    // the launcher stopped from outside (SIGTERM, Ctrl-C) takes its ranks with it
    Thread stopRanks = new Thread(() -> stopAll(processes));
    Runtime.getRuntime().addShutdownHook(stopRanks);
    try {
      for (int i = 0; i < plan.nprocPerNode(); i++) {
        int local = i;
        ProcessBuilder pb = new ProcessBuilder(plan.command()).redirectErrorStream(true);
        pb.environment().putAll(extraEnvironment);
        pb.environment().putAll(plan.environment(local));
        Process p = pb.start();
        processes.add(p);
        p.onExit().thenRun(() -> exits.add(local));
        int rank = plan.nodeRank() * plan.nprocPerNode() + local;
        Thread pump = Thread.ofPlatform().daemon().name("rank-" + rank + "-output")
            .start(() -> pump(p.getInputStream(), rank, lines));
        pumps.add(pump);
      }
    } catch (IOException e) {
      processes.forEach(Process::destroyForcibly);
      throw new UncheckedIOException("launch: cannot start " + plan.command().get(0) + ": " + e.getMessage(), e);
    }
    Exit failed = null;
    Map<Integer, String> lastLine = new HashMap<>();
    int remaining = processes.size();
    try {
      while (remaining > 0) {
        Line l = lines.poll(50, TimeUnit.MILLISECONDS);
        while (l != null) {
          forward(l, out, lastLine);
          l = lines.poll();
        }
        for (Integer i; (i = exits.poll()) != null; ) {
          Process p = processes.get(i);
          remaining--;
          if (p.exitValue() != 0 && failed == null) {
            failed = new Exit(plan.nodeRank() * plan.nprocPerNode() + i, p.pid(), p.exitValue());
            stopAll(processes);
          }
        }
      }
      for (Thread t : pumps) t.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopAll(processes);
      return 130;
    }
    for (Line l; (l = lines.poll()) != null; ) forward(l, out, lastLine);
    out.flush();
    Runtime.getRuntime().removeShutdownHook(stopRanks);
    if (failed == null) return 0;
    String last = lastLine.get(failed.rank());
    err.println("mplug launch: rank " + failed.rank() + " (pid " + failed.pid() + ") " + failed.reason()
        + (last == null ? "" : ", its last line: " + last) + "; the other ranks were stopped");
    err.flush();
    return failed.status();
  }

  private static void forward(Line l, PrintStream out, Map<Integer, String> lastLine) {
    out.println("[rank " + l.rank() + "] " + l.text());
    if (!l.text().isBlank()) lastLine.put(l.rank(), l.text().strip());
  }

  private static void pump(InputStream in, int rank, BlockingQueue<Line> lines) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String s; (s = r.readLine()) != null; ) lines.put(new Line(rank, s));
    } catch (IOException | InterruptedException e) {
      // the process ended or the launcher is stopping
    }
  }

  /** SIGTERM to every live rank, SIGKILL to those still alive after the grace period. */
  private static void stopAll(List<Process> processes) {
    processes.forEach(Process::destroy);
    long deadline = System.currentTimeMillis() + GRACE_MILLIS;
    for (Process p : processes) {
      try {
        if (!p.waitFor(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }
}
