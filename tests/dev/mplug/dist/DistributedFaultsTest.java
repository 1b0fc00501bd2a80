package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults end in one line and a non-zero status, never a hang: a rank killed mid-training, the launcher's report of a
 * dead rank, a port in use, an unreachable master, ranks started with different configs.
 */
class DistributedFaultsTest {
  @TempDir static Path world;
  @TempDir Path tmp;

  @BeforeAll
  static void makeWorld() {
    ShapesWorld.generate(world, ShapesWorld.Config.of(60, 0, 3, 64));
  }

  private List<String> pretrain(String... sets) {
    List<String> args = new ArrayList<>(List.of("pretrain", "--config", "pretrain-demo", "--set",
        "data.annotations=" + world.resolve(SynthFiles.PRETRAIN), "--set", "data.root=" + world, "--set",
        "output_dir=" + tmp.resolve("run"), "--set", "threads=1", "--set", "data.workers=1", "--set",
        "data.batch_size=4", "--set", "objectives.queue_size=16", "--set", "train.log_every=1"));
    for (String s : sets) args.addAll(List.of("--set", s));
    return Ranks.java("dev.mplug.cli.Main", args.toArray(String[]::new));
  }

  private static String[] with(String[] sets, String more) {
    List<String> all = new ArrayList<>(List.of(sets));
    all.add(more);
    return all.toArray(String[]::new);
  }

  @Test
  void aRankKilledMidTrainingEndsTheOtherWithOneLineWithinTheTimeout() throws Exception {
    int port = Ranks.freePort();
    Map<String, String> env = Map.of("MPLUG_DIST_TIMEOUT", "20");
    Ranks.Rank rank0 = Ranks.start(0, 2, port, pretrain("train.total_steps=500"), env);
    Ranks.Rank rank1 = Ranks.start(1, 2, port, pretrain("train.total_steps=500"), env);
    long deadline = System.currentTimeMillis() + 60_000;
    while (!rank0.output().toString().contains("step 2/500") && rank0.process().isAlive()
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(rank0.output().toString().contains("step 2/500"), "training runs: " + rank0.output());
    rank1.process().destroyForcibly();   // SIGKILL, mid-step
    long killed = System.nanoTime();
    int status = rank0.await(20 + 20);
    double seconds = (System.nanoTime() - killed) / 1e9;
    assertEquals(2, status, rank0.output().toString());
    assertTrue(seconds < 20 + 5, "rank 0 ended " + seconds + " s after the kill");
    String last = rank0.lastLine();
    assertTrue(last.startsWith("mplug pretrain: rank 0: ") && last.contains("another rank died or is unreachable"),
        last);
    assertFalse(rank0.output().toString().contains("\tat "), "no stack trace: " + rank0.output());
  }

  @Test
  void theLauncherNamesTheRankThatDiedAndWhyAndStopsTheOthers() {
    Ranks.Outcome r = Ranks.launch(2, Ranks.freePort(), Ranks.java(DyingWorker.class.getName()), Map.of());
    assertEquals(128 + 9, r.status(), r.output() + r.errors());
    assertTrue(r.errors().matches("(?s)mplug launch: rank 1 \\(pid \\d+\\) was killed by signal 9 \\(SIGKILL; out of "
        + "memory or killed\\).*; the other ranks were stopped\\s*"), r.errors());
  }

  @Test
  void aPortInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(0));
      int port = taken.getLocalPort();
      Ranks.Rank rank0 = Ranks.start(0, 2, port, pretrain(), Map.of());
      assertEquals(2, rank0.await(60), rank0.output().toString());
      assertEquals("mplug pretrain: MASTER_PORT=" + port + ": the port is already in use on 127.0.0.1 (another run? "
          + "choose a free port)", rank0.lastLine());
    }
  }

  @Test
  void anUnreachableMasterIsNamedAfterTheTimeout() throws Exception {
    int port = Ranks.freePort();
    long start = System.nanoTime();
    Ranks.Rank rank1 = Ranks.start(1, 2, port, pretrain(), Map.of("MPLUG_DIST_TIMEOUT", "5"));
    assertEquals(2, rank1.await(60), rank1.output().toString());
    assertTrue((System.nanoTime() - start) / 1e9 < 5 + 20, "within the timeout plus the JVM's start");
    assertTrue(rank1.lastLine().startsWith("mplug pretrain: rank 1 cannot reach the master at 127.0.0.1:" + port
        + " within 5 s (is rank 0 running, MASTER_ADDR right and the port open?)"), rank1.lastLine());
  }

  @Test
  void ranksWithDifferentConfigsRefuseToTrain() throws Exception {
    int port = Ranks.freePort();
    String[] schedule = {"train.total_steps=3", "train.warmup_steps=1"};
    Ranks.Rank rank0 = Ranks.start(0, 2, port, pretrain(with(schedule, "train.lr=1e-3")), Map.of());
    Ranks.Rank rank1 = Ranks.start(1, 2, port, pretrain(with(schedule, "train.lr=2e-3")), Map.of());
    String expected = "mplug pretrain: rank 1's trainer config differs from rank 0's: rank 0 has `lr=0.001`, this one "
        + "`lr=0.002` (item 3)";
    assertEquals(2, rank1.await(60), rank1.output().toString());
    assertEquals(expected, rank1.lastLine());
    assertEquals(2, rank0.await(60), rank0.output().toString());
    assertEquals(expected, rank0.lastLine());
  }
}
