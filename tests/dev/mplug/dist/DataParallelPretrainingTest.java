package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pretraining as two ranks (two JVMs, Gloo on 127.0.0.1, {@code ./mplug launch}'s launcher): the loss curve follows a
 * one-process run on the same global batch, only rank 0 writes, and a two-rank run resumes exactly from its own
 * checkpoint (every rank's generator state restored), also on one rank.
 */
class DataParallelPretrainingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path world;
  @TempDir Path tmp;

  @BeforeAll
  static void makeWorld() throws IOException {
    ShapesWorld.generate(world, ShapesWorld.Config.of(120, 0, 5, 64));
    // the demo model without dropout, so that the one-rank and two-rank runs draw nothing at random
    String demo = new String(DataParallelPretrainingTest.class.getResourceAsStream("/configs/model-demo.txtpb")
        .readAllBytes());
    Files.writeString(world.resolve("model.txtpb"), demo.replace("attention_probs_dropout_prob: 0",
        "attention_probs_dropout_prob: 0 hidden_dropout_prob: 0"));
  }

  /** The settings of these runs: 4 steps of the demo recipe, a metric line and a look at the loss every step. */
  private static List<String> sets(Path out, int batch, String... more) {
    List<String> s = new ArrayList<>(List.of("data.annotations=" + world.resolve(SynthFiles.PRETRAIN),
        "data.root=" + world, "output_dir=" + out, "threads=1", "data.workers=1", "data.batch_size=" + batch,
        "train.total_steps=4", "train.warmup_steps=1", "train.log_every=1", "train.checkpoint_every=2",
        "objectives.queue_size=32", "model=" + world.resolve("model.txtpb")));
    s.addAll(List.of(more));
    return s;
  }

  private static List<String> pretrain(List<String> sets, String... flags) {
    List<String> args = new ArrayList<>(List.of("pretrain", "--config", "pretrain-demo"));
    args.addAll(List.of(flags));
    for (String s : sets) args.addAll(List.of("--set", s));
    return Ranks.java("dev.mplug.cli.Main", args.toArray(String[]::new));
  }

  private static Ranks.Outcome twoRanks(List<String> command) {
    Ranks.Outcome r = Ranks.launch(2, Ranks.freePort(), command, Map.of());
    assertEquals(0, r.status(), r.output() + r.errors());
    return r;
  }

  private static List<Double> losses(Path out) throws IOException {
    List<Double> l = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      l.add(JSON.readTree(line).path("loss/total").asDouble());
    }
    return l;
  }

  /**
   * ITC alone (the objective whose batch statistics are most global): 2 ranks x 4 samples against 1 process x 8,
   * the same 8 samples each step. The curves are close but not equal by design: as in ALBEF each rank contrasts its
   * 4 images with its own 4 texts plus the shared queue (32), the single process with its 8 plus the queue, so the
   * in-batch negatives differ (the queue, fed by the all-gather, holds the same features in both runs).
   */
  @Test
  void twoRanksFollowTheOneProcessLossCurveOnTheSameGlobalBatch() throws IOException {
    String[] itcOnly = {"objectives.itm=false", "objectives.mlm=false", "objectives.prefix_lm=false"};
    Ranks.Outcome two = twoRanks(pretrain(sets(tmp.resolve("two"), 4, itcOnly)));
    PretrainRun.run(PretrainConfig.load("pretrain-demo", sets(tmp.resolve("one"), 8, itcOnly)), false, null,
        new PrintStream(new ByteArrayOutputStream()));
    List<Double> a = losses(tmp.resolve("two"));
    List<Double> b = losses(tmp.resolve("one"));
    assertEquals(4, a.size(), "rank 0 alone writes metrics: one line per step\n" + two.output());
    for (int i = 0; i < 4; i++) {
      assertEquals(b.get(i), a.get(i), 0.05 * b.get(i), "step " + (i + 1) + ": 2 ranks " + a + ", 1 process " + b);
    }
    assertTrue(a.get(3) < 0.6 * a.get(0) && b.get(3) < 0.6 * b.get(0), "both learn: " + a + " / " + b);
    try (Stream<Path> events = Files.list(tmp.resolve("two/tensorboard"))) {
      assertEquals(1, events.count(), "one TensorBoard file, rank 0's");
    }
    assertTrue(two.output().contains("[rank 0] step 4/4"), two.output());
    assertTrue(!two.output().contains("[rank 1] step"), "rank 1 prints no progress\n" + two.output());
  }

  /**
   * All four objectives (masking, hard negatives and dropout draw from each rank's own generator): stopped after
   * step 2 and resumed, the two ranks repeat the uninterrupted run's losses and write the same checkpoint bytes.
   */
  @Test
  void aTwoRankRunResumesExactlyFromItsCheckpoint() throws IOException {
    twoRanks(pretrain(sets(tmp.resolve("full"), 4)));
    twoRanks(pretrain(sets(tmp.resolve("split"), 4), "--until-step", "2"));
    twoRanks(pretrain(sets(tmp.resolve("split"), 4), "--resume"));
    List<Double> full = losses(tmp.resolve("full"));
    assertEquals(full, losses(tmp.resolve("split")), "losses after --resume equal the uninterrupted run's");
    for (String step : List.of("step-000000002", "step-000000004")) {
      Path a = tmp.resolve("full/checkpoints").resolve(step);
      Path b = tmp.resolve("split/checkpoints").resolve(step);
      for (String f : List.of("MANIFEST.json", "model.safetensors", "optimizer.safetensors", "trainer.json")) {
        assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), step + "/" + f);
      }
    }
    JsonNode state = JSON.readTree(tmp.resolve("full/checkpoints/step-000000004/trainer.json").toFile());
    assertEquals(2, state.path("world_size").asInt());
    assertEquals(2, state.path("rank_torch_cpu_rng").size());
    assertNotEquals(state.path("rank_torch_cpu_rng").get(0), state.path("rank_torch_cpu_rng").get(1),
        "each rank draws from its own generator");
    assertEquals(4 * 4, state.path("data").path("offset").asInt(), "the position counts this rank's samples: 4 steps "
        + "of 4");
  }
}
