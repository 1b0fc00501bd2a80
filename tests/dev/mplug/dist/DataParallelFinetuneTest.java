package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.ShapesWorld;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fine-tuning (VQA) on the same data-parallel trainer: two ranks train and evaluate, rank 0 alone writes. */
class DataParallelFinetuneTest {
  @TempDir Path tmp;

  @Test
  void twoRanksFineTuneAndRankZeroAloneWritesTheResults() throws IOException {
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(60, 0, 9, 64));
    Path out = tmp.resolve("vqa");
    Ranks.Outcome r = Ranks.launch(2, Ranks.freePort(), Ranks.java("dev.mplug.cli.Main", "finetune", "--task", "vqa",
        "--config", "vqa-demo", "--set", "init.checkpoint=", "--set", "data.annotations=" + world.resolve(
            "vqa_train.json"), "--set", "data.root=" + world, "--set", "data.vocab=" + world.resolve("vocab.txt"),
        "--set", "eval.annotations=" + world.resolve("vqa_val.json"), "--set", "eval.max_items=8", "--set",
        "train.total_steps=3", "--set", "train.warmup_steps=1", "--set", "train.log_every=1", "--set",
        "data.batch_size=4", "--set", "output_dir=" + out), Map.of());
    assertEquals(0, r.status(), r.output() + r.errors());
    assertEquals(3, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "one metrics line per step");
    assertTrue(Files.exists(out.resolve("results.json")));
    assertTrue(r.output().contains("[rank 0] evaluation (after)") || r.output().contains("[rank 0] evaluation (step 3)"),
        r.output());
    assertFalse(r.output().contains("[rank 1] evaluation"), "rank 1 evaluates silently\n" + r.output());
    assertTrue(r.output().contains("[rank 0] | vqa_accuracy |"), r.output());
  }
}
