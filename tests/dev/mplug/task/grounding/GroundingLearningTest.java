package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.FinetuneRun;
import dev.mplug.task.PretrainedShapes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Grounding learns: the pretrained shapes model, fine-tuned briefly with the official loss (the demo recipe,
 * shortened), locates the named figure of its training expressions far more often than the untrained model and the
 * pretrained, not fine-tuned one.
 *
 * <p>The test fits {@value #EXPRESSIONS} training expressions and scores those: generalising to the held-out split
 * takes far more than a test's budget (measured on this world from the same recipe pretrained with seed 42: 1 to 4%
 * at IoU >= 0.5 after 250 to 750 steps over all 1,828 training expressions, from 0.5% pretrained), because the demo
 * model does not learn to read where a figure is: its centres do not follow the true ones, on single-figure images
 * too, while its sizes do (README, downstream tasks). So this checks that the whole path learns (targets to tokens,
 * the weighted loss, greedy decoding, the box taken back to the image), not how well the demo model generalises.
 */
class GroundingLearningTest {
  static final int EXPRESSIONS = 32;
  static final int STEPS = 200;
  /** Accuracy points the fine-tuned model must gain over both baselines (measured: 3.1, 3.1 -> 46.9 in 57 s). */
  static final double MARGIN = 20;

  @TempDir Path tmp;

  @Test
  void fineTuningLocatesTheNamedFigure() throws IOException {
    Path world = PretrainedShapes.world();
    Path checkpoint = PretrainedShapes.checkpoint();
    ObjectMapper json = new ObjectMapper();
    ArrayNode all = (ArrayNode) json.readTree(world.resolve(SynthFiles.GROUNDING).toFile());
    ArrayNode first = json.createArrayNode();
    for (int i = 0; i < EXPRESSIONS; i++) first.add(all.get(i));
    Path subset = tmp.resolve("grounding-first.json");
    json.writeValue(subset.toFile(), first);
    FinetuneConfig cfg = FinetuneConfig.load("grounding-demo", List.of("data.annotations=" + subset,
        "data.root=" + world, "eval.annotations=" + subset, "eval.root=" + world, "init.checkpoint=" + checkpoint,
        "output_dir=" + tmp.resolve("run"), "threads=1", "data.workers=1", "train.total_steps=" + STEPS,
        "train.warmup_steps=" + STEPS / 10, "train.best_metric=none"));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    FinetuneRun.Report r = FinetuneRun.run(cfg, new FinetuneRun.Options(false, Long.MAX_VALUE, true),
        new PrintStream(log));
    double untrained = r.untrained().metric("accuracy");
    double pretrained = r.before().metric("accuracy");
    double fineTuned = r.after().metric("accuracy");
    System.out.printf(Locale.ROOT, "grounding accuracy (IoU >= 0.5) on %d training expressions: untrained %.1f%%, "
        + "pretrained %.1f%%, fine-tuned %.1f%% (mean IoU %.1f / %.1f / %.1f); %d steps, %.0f s%n",
        r.after().results().size(), untrained, pretrained, fineTuned, r.untrained().metric("mean_iou"),
        r.before().metric("mean_iou"), r.after().metric("mean_iou"), STEPS, (System.nanoTime() - t0) / 1e9);
    assertTrue(fineTuned >= untrained + MARGIN && fineTuned >= pretrained + MARGIN,
        "fine-tuning did not clearly beat both: " + untrained + " / " + pretrained + " / " + fineTuned + "\n" + log);
  }
}
