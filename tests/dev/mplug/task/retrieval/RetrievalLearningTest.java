package dev.mplug.task.retrieval;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.FinetuneRun;
import dev.mplug.task.PretrainedShapes;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retrieval fine-tuning learns: from the shared pretrained demo model, a short run on the shapes world's retrieval
 * pairs raises r_mean on the 100 held-out images (300 captions) clearly above both the untrained model and the
 * pretrained model it started from. The run is half the demo config's at twice its rate (2e-3 over 150 steps: the
 * same gain, measured 38.3 at 1e-3, 40.3 at 2e-3, 40.2 with the demo's 1e-3 over 300 steps).
 */
class RetrievalLearningTest {
  @TempDir Path tmp;

  @Test
  void fineTuningBeatsTheUntrainedAndThePretrainedModel() {
    Path world = PretrainedShapes.world();
    FinetuneConfig cfg = FinetuneConfig.load("retrieval-demo", List.of(
        "data.annotations=" + world.resolve(SynthFiles.RETRIEVAL_TRAIN), "data.root=" + world,
        "eval.annotations=" + world.resolve(SynthFiles.RETRIEVAL_TEST), "eval.max_items=100",
        "init.checkpoint=" + PretrainedShapes.checkpoint(), "output_dir=" + tmp, "threads=1", "data.workers=1",
        "train.total_steps=150", "train.warmup_steps=15", "train.lr=2e-3", "train.visual_lr=2e-3",
        "train.checkpoint_every=0", "retrieval.k=16"));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    FinetuneRun.Report r = FinetuneRun.run(cfg, new FinetuneRun.Options(false, Long.MAX_VALUE, true),
        new PrintStream(log, true));
    double untrained = r.untrained().metric("r_mean");
    double pretrained = r.before().metric("r_mean");
    double fineTuned = r.after().metric("r_mean");
    String figures = String.format("r_mean: untrained %.2f, pretrained %.2f, fine-tuned %.2f", untrained, pretrained,
        fineTuned);
    System.out.println("[learning] retrieval " + figures);
    assertTrue(fineTuned > untrained + MARGIN, figures + "\n" + log);
    assertTrue(fineTuned > pretrained + MARGIN, figures + "\n" + log);
  }

  /** Percentage points of r_mean (measured: untrained 4.7, pretrained 26.4, fine-tuned 40.3). */
  private static final double MARGIN = 10;
}
