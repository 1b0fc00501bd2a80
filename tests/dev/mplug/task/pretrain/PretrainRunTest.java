package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.CheckpointStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pretraining end to end on a small shapes world: the run resumes bit for bit through the real loader (2 workers),
 * bad configs fail before compute, and training learns (retrieval and MLM clearly above their untrained values).
 */
class PretrainRunTest {
  @TempDir static Path world;
  @TempDir Path tmp;

  @BeforeAll
  static void makeWorld() {
    ShapesWorld.generate(world, ShapesWorld.Config.of(1000, 0, 11, 64));
  }

  private static PretrainConfig config(Path out, String... more) {
    List<String> sets = new ArrayList<>(List.of("data.annotations=" + world.resolve(SynthFiles.PRETRAIN),
        "data.root=" + world, "output_dir=" + out, "threads=1", "data.workers=2"));
    sets.addAll(List.of(more));
    return PretrainConfig.load("pretrain-demo", sets);
  }

  private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

  @Test
  void resumedRunRepeatsTheUninterruptedLossesBitForBit() {
    String[] schedule = {"train.total_steps=6", "train.warmup_steps=2", "train.checkpoint_every=3",
        "train.log_every=1", "data.batch_size=8", "objectives.queue_size=16", "objectives.alpha_ramp_steps=2"};
    List<Double> full = PretrainRun.run(config(tmp.resolve("full"), schedule), false, null, QUIET).summary().losses();
    List<Double> first = PretrainRun.run(config(tmp.resolve("split"), schedule), false, null, QUIET, 3).summary()
        .losses();
    TorchRuntime.seed(12345);   // disturb the generator: the resume must restore it
    PretrainRun.Report second = PretrainRun.run(config(tmp.resolve("split"), schedule), true, null, QUIET);
    assertEquals(6, full.size());
    assertEquals(full.subList(0, 3), first);
    assertEquals(full.subList(3, 6), second.summary().losses(), "losses after --resume equal the uninterrupted run's");
    assertEquals("step-000000006", second.checkpoint().getFileName().toString());
  }

  /**
   * The demo's recipe on a smaller world and schedule (600 steps, about 4 minutes on one core): retrieval and MLM rise
   * clearly above their untrained values (chance R@5 on 100 images is 5%).
   */
  @Test
  void pretrainingLearnsRetrievalAndMaskedWords() {
    PretrainRun.Report r = PretrainRun.run(config(tmp.resolve("learn"), "train.total_steps=600", "train.log_every=50",
        "data.workers=1"), false, new PretrainRun.Evaluation(world.resolve(SynthFiles.RETRIEVAL_TEST), world, 100, 16),
        QUIET);
    var before = r.before();
    var after = r.after();
    double r5Before = (before.retrieval().textR5() + before.retrieval().imageR5()) / 2;
    double r5After = (after.retrieval().textR5() + after.retrieval().imageR5()) / 2;
    double r1Before = (before.retrieval().textR1() + before.retrieval().imageR1()) / 2;
    double r1After = (after.retrieval().textR1() + after.retrieval().imageR1()) / 2;
    String table = "R@1 " + r1Before + " -> " + r1After + ", R@5 " + r5Before + " -> " + r5After + ", MLM "
        + before.mlm().percent() + " -> " + after.mlm().percent();
    System.out.println("[learning] " + table);
    assertTrue(after.mlm().percent() > before.mlm().percent() + 25, table);
    assertTrue(r5After > r5Before + 8, table);
    assertTrue(r1After > r1Before, table);
  }

  @Test
  void resumeRefusesACorruptedCheckpointAndBadConfigsFailEarly() throws Exception {
    String[] schedule = {"train.total_steps=2", "train.warmup_steps=1", "data.batch_size=4", "objectives.queue_size=8"};
    Path out = tmp.resolve("run");
    PretrainRun.run(config(out, schedule), false, null, QUIET);
    Path ckpt = new CheckpointStore(out.resolve("checkpoints"), 2).latestValid().orElseThrow();
    byte[] model = Files.readAllBytes(ckpt.resolve("model.safetensors"));
    model[model.length - 1] ^= 1;
    Files.write(ckpt.resolve("model.safetensors"), model);
    var e = assertThrows(IllegalArgumentException.class, () -> PretrainRun.run(config(out, schedule), true, null, QUIET));
    assertTrue(e.getMessage().contains("no complete checkpoint"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> config(out, "train.lr=-1"));
    assertTrue(e.getMessage().contains("lr = -1.0 is invalid"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> config(out, "train.learning_rate=1"));
    assertTrue(e.getMessage().contains("unknown key learning_rate"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> PretrainRun.run(config(out, "data.annotations=/nonexistent/pretrain.json"), false, null, QUIET));
    assertTrue(e.getMessage().contains("/nonexistent/pretrain.json does not exist"), e.getMessage());
    Path file = Files.writeString(tmp.resolve("a-file"), "x");   // a folder under a file cannot exist, even for root
    e = assertThrows(IllegalArgumentException.class, () -> PretrainRun.run(config(file.resolve("out")), false, null,
        QUIET));
    assertTrue(e.getMessage().contains("is not writable"), e.getMessage());
  }
}
