package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainRun;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.ZeroRedundancyOptimizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZeRO stage 1 on two ranks (two JVMs): the same parameters, bit for bit, as plain data parallel; checkpoints hold
 * one optimizer shard per rank and a partition map; such a checkpoint resumes without sharding (exactly) and on one
 * rank.
 */
class ZeroRedundancyOptimizerTest {
  @TempDir static Path root;
  private static Path world;

  @BeforeAll
  static void runBothWays() throws IOException {
    world = root.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(60, 0, 7, 64));
    launch(root.resolve("zero"), List.of(), "train.zero_stage=1");
    launch(root.resolve("plain"), List.of(), "train.zero_stage=0");
  }

  private static List<String> sets(Path out, String... more) {
    List<String> s = new ArrayList<>(List.of("data.annotations=" + world.resolve(SynthFiles.PRETRAIN),
        "data.root=" + world, "output_dir=" + out, "threads=1", "data.workers=1", "data.batch_size=4",
        "train.total_steps=4", "train.warmup_steps=1", "train.log_every=1", "train.checkpoint_every=2",
        "objectives.queue_size=16"));
    s.addAll(List.of(more));
    return s;
  }

  /** {@code pretrain} on two ranks with {@code flags} (e.g. --resume) and the config fields {@code more}. */
  private static Ranks.Outcome launch(Path out, List<String> flags, String... more) {
    List<String> args = new ArrayList<>(List.of("pretrain", "--config", "pretrain-demo"));
    args.addAll(flags);
    for (String s : sets(out, more)) args.addAll(List.of("--set", s));
    Ranks.Outcome r = Ranks.launch(2, Ranks.freePort(), Ranks.java("dev.mplug.cli.Main", args.toArray(String[]::new)),
        Map.of());
    assertEquals(0, r.status(), r.output() + r.errors());
    return r;
  }

  private static byte[] model(Path run, String step) throws IOException {
    return Files.readAllBytes(run.resolve("checkpoints").resolve(step).resolve("model.safetensors"));
  }

  @Test
  void shardedStateGivesThePlainDataParallelParametersBitForBit() throws IOException {
    for (String step : List.of("step-000000002", "step-000000004")) {
      assertArrayEquals(model(root.resolve("plain"), step), model(root.resolve("zero"), step), step);
    }
    Path sharded = root.resolve("zero/checkpoints/step-000000004");
    assertTrue(Files.exists(sharded.resolve("optimizer-rank-00000-of-00002.safetensors")));
    assertTrue(Files.exists(sharded.resolve("optimizer-rank-00001-of-00002.safetensors")));
    assertFalse(Files.exists(sharded.resolve("optimizer.safetensors")), "no rank gathers the whole state");
    var owners = new ObjectMapper().readTree(sharded.resolve(ZeroRedundancyOptimizer.PARTITION_FILE).toFile())
        .path("owner");
    assertTrue(owners.size() > 100 && owners.toString().contains(":0") && owners.toString().contains(":1"),
        "both ranks own parameters");
    assertTrue(CheckpointStore.validate(sharded).isEmpty(), "the manifest covers the shards");
  }

  @Test
  void theStateSplitsEvenlyByElements() {
    TorchRuntime.load();
    Map<String, Tensor> params = new LinkedHashMap<>();
    for (long n : new long[] {100, 60, 50, 40, 10}) params.put("p" + n, torch.zeros(n));
    // 100 -> rank 0; 60 -> rank 1; 50 -> rank 1 (60 < 100); 40 -> rank 0 (100 < 110); 10 -> rank 1 (110 < 140)
    assertEquals(Map.of("p100", 0, "p60", 1, "p50", 1, "p40", 0, "p10", 1),
        ZeroRedundancyOptimizer.partition(params, 2));
  }

  /**
   * Stopped at step 2 with sharded state and resumed without sharding, the run ends where the uninterrupted sharded
   * run ended (so the merged shards restored every moment); resumed on one rank it continues from the same
   * position of the data.
   */
  @Test
  void aShardedCheckpointResumesUnshardedAndOnOneRank() throws IOException {
    Path split = root.resolve("split");
    launch(split, List.of("--until-step", "2"), "train.zero_stage=1");
    Path one = root.resolve("one");
    copy(split.resolve("checkpoints/step-000000002"), one.resolve("checkpoints/step-000000002"));
    launch(split, List.of("--resume"), "train.zero_stage=0");
    assertArrayEquals(model(root.resolve("zero"), "step-000000004"), model(split, "step-000000004"));

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PretrainRun.Report r = PretrainRun.run(PretrainConfig.load("pretrain-demo", sets(one, "data.batch_size=8")), true,
        null, new PrintStream(log, true));
    assertTrue(log.toString().contains("at step 2"), log.toString());
    assertEquals(2, r.summary().losses().size());
    assertTrue(r.summary().losses().stream().allMatch(Double::isFinite), r.summary().losses().toString());
    var state = new ObjectMapper().readTree(one.resolve("checkpoints/step-000000004/trainer.json").toFile());
    assertEquals(2 * 2 * 4 + 2 * 8, state.path("data").path("offset").asInt(),
        "2 ranks x 2 steps x 4 samples, then 2 steps x 8 on one rank");
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
    }
  }
}
