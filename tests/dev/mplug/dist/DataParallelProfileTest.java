package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.testing.TraceFile;
import dev.mplug.testing.TraceFile.Slice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --profile} on two data-parallel ranks: each rank writes its own trace ({@code .rankN} before the extension),
 * with the gradient all-reduce inside backward and the loss averaging inside the step, once per step; only rank 0
 * writes checkpoints.
 */
class DataParallelProfileTest {
  @TempDir Path tmp;

  @Test
  void eachRankWritesItsTraceWithItsAllReduces() throws IOException {
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(40, 0, 9, 64));
    Path trace = tmp.resolve("trace.json");
    List<String> args = new ArrayList<>(List.of("pretrain", "--config", "pretrain-demo", "--profile", trace.toString()));
    for (String set : List.of("data.annotations=" + world.resolve(SynthFiles.PRETRAIN), "data.root=" + world,
        "output_dir=" + tmp.resolve("run"), "threads=1", "data.workers=1", "data.batch_size=4", "train.total_steps=2",
        "train.warmup_steps=1", "train.checkpoint_every=2", "objectives.queue_size=32")) {
      args.addAll(List.of("--set", set));
    }
    Ranks.Outcome r = Ranks.launch(2, Ranks.freePort(), Ranks.java("dev.mplug.cli.Main", args.toArray(String[]::new)),
        Map.of());
    assertEquals(0, r.status(), r.output() + r.errors());
    for (int rank = 0; rank < 2; rank++) {
      Path file = tmp.resolve("trace.rank" + rank + ".json");
      assertTrue(r.output().contains("profile: ") && r.output().contains(" ranges in " + file), r.output());
      TraceFile t = TraceFile.read(file);
      assertEquals("mplug pretrain, rank " + rank, t.processName());
      assertEquals(2, t.named("step").size());
      List<Slice> gradients = t.named("allreduce.gradients");
      assertEquals(2, gradients.size(), "one synchronising backward per step (no accumulation)");
      for (Slice s : gradients) assertEquals("backward", t.parentName(s));
      List<Slice> losses = t.named("allreduce.losses");
      assertEquals(2, losses.size());
      for (Slice s : losses) assertEquals("step", t.parentName(s));
      assertEquals(0, t.named("backward.no_sync").size());
      assertEquals(rank == 0 ? 1 : 0, t.named("checkpoint_write").size(), "rank 0 alone writes");
    }
  }
}
