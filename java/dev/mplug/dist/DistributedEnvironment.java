package dev.mplug.dist;

import dev.mplug.torch.ComputeDevice;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Where this process stands in a data-parallel job, read from the variables torchrun sets (and {@code ./mplug launch},
 * and the Slurm mapping of the README, set the same way): {@code RANK}, {@code LOCAL_RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}, {@code TORCHELASTIC_RESTART_COUNT}; plus this
 * project's {@code MPLUG_DIST_BACKEND} (gloo, nccl, or auto = nccl when CUDA is present, else gloo),
 * {@code MPLUG_DIST_TIMEOUT} (seconds any rendezvous or collective may wait before the run fails; default 300) and
 * {@code MPLUG_DIST_HOST} / {@code GLOO_SOCKET_IFNAME} (the address or network interface this rank's Gloo binds to).
 * Without {@code WORLD_SIZE} the process is a single rank and nothing is distributed.
 *
 * @param host the address Gloo binds to (null: 127.0.0.1 when the master is on loopback, else the host name's address)
 * @param networkInterface the interface Gloo binds to (null: by {@code host}); wins over {@code host}
 * @param agentStore torchrun's agent already serves the store at the master ({@code TORCHELASTIC_USE_AGENT_STORE}):
 *     rank 0 connects to it instead of listening
 */
public record DistributedEnvironment(int rank, int localRank, int worldSize, int localWorldSize, String masterAddr,
    int masterPort, int restartCount, String backend, Duration timeout, String host, String networkInterface,
    boolean agentStore) {
  /** The default collective and rendezvous timeout, as torch.distributed's for Gloo is 30 min; shorter here. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);
  public static final String GLOO = "gloo";
  public static final String NCCL = "nccl";
  public static final String AUTO = "auto";

  public DistributedEnvironment {
    if (worldSize < 1) throw new IllegalArgumentException("WORLD_SIZE = " + worldSize + " must be >= 1");
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("RANK = " + rank + " must be in [0, WORLD_SIZE = " + worldSize + ")");
    }
    if (localWorldSize < 1 || localRank < 0 || localRank >= localWorldSize) {
      throw new IllegalArgumentException("LOCAL_RANK = " + localRank + " must be in [0, LOCAL_WORLD_SIZE = "
          + localWorldSize + ")");
    }
    if (worldSize > 1 && (masterAddr == null || masterAddr.isBlank())) {
      throw new IllegalArgumentException("MASTER_ADDR is not set (WORLD_SIZE = " + worldSize + " needs a master)");
    }
    if (worldSize > 1 && (masterPort < 1 || masterPort > 65535)) {
      throw new IllegalArgumentException("MASTER_PORT = " + masterPort + " must be in [1, 65535]");
    }
    if (!(backend.equals(GLOO) || backend.equals(NCCL) || backend.equals(AUTO))) {
      throw new IllegalArgumentException("MPLUG_DIST_BACKEND = " + backend + " must be gloo, nccl or auto");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("MPLUG_DIST_TIMEOUT = " + timeout.toSeconds() + " s must be > 0");
    }
  }

  /** One process, nothing distributed. */
  public static DistributedEnvironment single() {
    return new DistributedEnvironment(0, 0, 1, 1, null, 0, 0, AUTO, DEFAULT_TIMEOUT, null, null, false);
  }

  /** This process's environment ({@link System#getenv()}). */
  public static DistributedEnvironment fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /** Reads the variables from {@code env}; a malformed one is an error naming it. */
  public static DistributedEnvironment fromEnvironment(Map<String, String> env) {
    if (!env.containsKey("WORLD_SIZE")) return single();
    int world = integer(env, "WORLD_SIZE", null);
    int rank = integer(env, "RANK", null);
    int localWorld = integer(env, "LOCAL_WORLD_SIZE", world);
    int localRank = integer(env, "LOCAL_RANK", rank % localWorld);
    String backend = env.getOrDefault("MPLUG_DIST_BACKEND", AUTO).strip().toLowerCase(Locale.ROOT);
    Duration timeout = Duration.ofSeconds(integer(env, "MPLUG_DIST_TIMEOUT", (int) DEFAULT_TIMEOUT.toSeconds()));
    return new DistributedEnvironment(rank, localRank, world, localWorld, env.get("MASTER_ADDR"),
        integer(env, "MASTER_PORT", world > 1 ? null : 0), integer(env, "TORCHELASTIC_RESTART_COUNT", 0), backend,
        timeout, blankToNull(env.get("MPLUG_DIST_HOST")), blankToNull(env.get("GLOO_SOCKET_IFNAME")),
        "true".equalsIgnoreCase(env.getOrDefault("TORCHELASTIC_USE_AGENT_STORE", "").strip()));
  }

  private static int integer(Map<String, String> env, String key, Integer fallback) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      if (fallback == null) throw new IllegalArgumentException(key + " is not set (WORLD_SIZE is, so " + key
          + " must be too)");
      return fallback;
    }
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " = \"" + v + "\" is not an integer", e);
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  public boolean distributed() {
    return worldSize > 1;
  }

  /**
   * This rank's device for a run configured on {@code configured}: with more than one process, {@code cuda:N} is the
   * node's first GPU and local rank r takes {@code cuda:(N + r)} (torchrun's one-GPU-per-process convention; the config,
   * which every rank must share, cannot name each rank's GPU); the CPU, and one process, stay as configured.
   */
  public ComputeDevice deviceOfRank(ComputeDevice configured) {
    if (!distributed() || !configured.cuda()) return configured;
    return new ComputeDevice(true, configured.index() + localRank);
  }

  /** The master's address as {@code host:port}, for messages. */
  public String master() {
    return masterAddr + ":" + masterPort;
  }
}
