package dev.mplug.task.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.FinetuneRun;
import dev.mplug.task.PretrainedShapes;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.task.TrainedModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.NoGradGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SNLI-VE and NLVR2 fine-tuning from the shared pretrained shapes model (the demo recipes, 1 thread; SNLI-VE 200 steps
 * of 16, NLVR2 400), scored on the held-out images' hypotheses (300) and pairs (200); a checkpoint reloads to the same
 * figures.
 *
 * <p>What the demo model learns here, measured (pretrained 600 steps, seed 43, random ITM negatives; 2 busy cores):
 * SNLI-VE 33.33% before, 66.67% after 200 steps: it learns the neutral class (a text property: "made of", "drawn by")
 * and not yet, at this pretraining length, to tell "there is a red shape" entailed from contradicted (the demo's
 * 1,000-step model does: 86.67%, see README). NLVR2 37.50% before, 67.50% after 400 steps at lr 3e-4 (majority class
 * 51.5%; colour statements 71.3%, count statements 48.5%: not learned). Before the demo recipe took random ITM
 * negatives and NLVR2 lr 3e-4 it did not learn at all (48.5% after 200 steps at lr 1e-3, training loss 0.69).
 */
class ClassificationLearningTest {
  @TempDir Path tmp;

  private FinetuneRun.Report run(String config, String train, String test, int steps) {
    Path world = PretrainedShapes.world();
    FinetuneConfig cfg = FinetuneConfig.load(config, List.of("data.annotations=" + world.resolve(train),
        "data.root=" + world, "data.vocab=" + world.resolve(SynthFiles.VOCAB),
        "eval.annotations=" + world.resolve(test),
        "init.checkpoint=" + PretrainedShapes.checkpoint(), "output_dir=" + tmp, "threads=1", "data.workers=1",
        "train.total_steps=" + steps, "train.warmup_steps=" + steps / 10, "train.log_every=50"));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    FinetuneRun.Report r = FinetuneRun.run(cfg, new FinetuneRun.Options(false, Long.MAX_VALUE, false),
        new PrintStream(log, true));
    System.out.printf(Locale.ROOT, "%s: accuracy before %.2f, after %.2f (%d held-out items, %d steps, %.0f s)%n",
        config, r.before().metric("accuracy"), r.after().metric("accuracy"), r.after().results().size(), steps,
        (System.nanoTime() - t0) / 1e9);
    System.out.println(log);
    // the checkpoint carries the task and its classifier: reloaded, it scores exactly as the run's last evaluation
    assertEquals(Optional.of(cfg.task()), TrainedModel.storedTask(r.checkpoint()));
    TrainedModel.Loaded loaded = TrainedModel.load(r.checkpoint(), null, Tasks.of(cfg));
    assertTrue(loaded.report().missing().isEmpty(), "cls_head comes from the checkpoint");
    try (NoGradGuard _ = new NoGradGuard()) {
      TaskEvaluation again = Tasks.of(cfg).evaluate(loaded.model(),
          BertTokenizer.load(world.resolve(SynthFiles.VOCAB)), cfg.eval());
      assertEquals(r.after().metric("accuracy"), again.metric("accuracy"), 1e-9);
    }
    return r;
  }

  @Test
  void snliVeBeatsTheUntrainedModel() {
    FinetuneRun.Report r = run("snli-ve-demo", SynthFiles.SNLI_VE_TRAIN, SynthFiles.SNLI_VE_TEST, 200);
    assertEquals(300, r.after().results().size(), "three hypotheses per held-out image");
    double neutral = classAccuracy(r.after(), "neutral");
    System.out.printf(Locale.ROOT, "snli-ve per class: neutral %.1f, entailment %.1f, contradiction %.1f%n", neutral,
        classAccuracy(r.after(), "entailment"), classAccuracy(r.after(), "contradiction"));
    assertTrue(r.after().metric("accuracy") > r.before().metric("accuracy") + 20,
        "fine-tuned " + r.after().metric("accuracy") + " vs untrained " + r.before().metric("accuracy"));
    assertTrue(neutral > 90, "the neutral hypotheses are told apart: " + neutral);
  }

  @Test
  void nlvr2BeatsTheMajorityClassAndReloads() {
    FinetuneRun.Report r = run("nlvr2-demo", SynthFiles.NLVR2_TRAIN, SynthFiles.NLVR2_TEST, 400);
    assertEquals(200, r.after().results().size(), "two pairs per held-out image");
    assertEquals(List.of("index", "images", "sentence", "prediction", "label"),
        List.copyOf(r.after().results().get(0).keySet()));
    double majority = Math.max(share(r.after(), "True"), share(r.after(), "False"));
    double colour = kindAccuracy(r.after(), "contain");
    System.out.printf(Locale.ROOT, "nlvr2: majority class %.1f, colour statements %.1f, count statements %.1f%n",
        majority, colour, kindAccuracy(r.after(), "shapes"));
    double after = r.after().metric("accuracy");
    assertTrue(after > majority + 8 && after > r.before().metric("accuracy") + 8,
        "fine-tuned " + after + " vs majority " + majority + " and untrained " + r.before().metric("accuracy"));
  }

  /** The share (percent) of the results whose label is {@code label}. */
  private static double share(TaskEvaluation e, String label) {
    return 100.0 * e.results().stream().filter(r -> r.get("label").equals(label)).count() / e.results().size();
  }

  /** The accuracy (percent) over the results whose sentence contains {@code word}. */
  private static double kindAccuracy(TaskEvaluation e, String word) {
    List<Map<String, Object>> rows =
        e.results().stream().filter(r -> ((String) r.get("sentence")).contains(word)).toList();
    return 100.0 * rows.stream().filter(r -> r.get("prediction").equals(r.get("label"))).count() / rows.size();
  }

  /** The accuracy (percent) over the results whose label is {@code label}. */
  private static double classAccuracy(TaskEvaluation e, String label) {
    List<Map<String, Object>> rows = e.results().stream().filter(r -> r.get("label").equals(label)).toList();
    return 100.0 * rows.stream().filter(r -> r.get("prediction").equals(label)).count() / rows.size();
  }
}
