package dev.mplug.cli;

import static dev.mplug.cli.CliErrorsTest.assertOneLine;
import static dev.mplug.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.PretrainedShapes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mplug finetune}, {@code evaluate} and {@code demo --task}: their errors are one line, evaluate works. */
class TaskCommandsTest {
  @TempDir Path tmp;

  @Test
  void finetuneAndDemoRefuseBadTasksConfigsAndFiles() {
    assertEquals("mplug finetune: --task caption but the config vqa-demo is for task vqa",
        assertOneLine(run("finetune", "--task", "caption", "--config", "vqa-demo"), 2, "mplug finetune: "));
    String line = assertOneLine(run("finetune", "--task", "vqa", "--config", "vqa-demo", "--set",
        "data.annotations=" + tmp.resolve("none.json")), 2, "mplug finetune: ");
    assertTrue(line.contains("data.annotations: " + tmp.resolve("none.json") + " does not exist"), line);
    line = assertOneLine(run("finetune", "--task", "vqa", "--config", "vqa-demo", "--set", "vqa.beem_size=3"), 2,
        "mplug finetune: ");
    assertTrue(line.contains("unknown key beem_size"), line);
    assertEquals("mplug demo: --task nlvr is not one of [vqa, caption, retrieval, grounding, snli-ve, nlvr2, "
        + "video-retrieval, video-qa, video-caption]",
        assertOneLine(run("demo", "--task", "nlvr", "--data", tmp.toString()), 2, "mplug demo: "));
  }

  @Test
  void evaluateRefusesMissingFiles() throws IOException {
    Path ann = Files.writeString(tmp.resolve("vqa_val.json"), "[]");
    String line = assertOneLine(run("evaluate", "--task", "vqa", "--checkpoint", tmp.resolve("nope").toString(),
        "--annotations", ann.toString(), "--vocab", ann.toString()), 2, "mplug evaluate: ");
    assertTrue(line.contains("--checkpoint " + tmp.resolve("nope") + " does not exist"), line);
    line = assertOneLine(run("evaluate", "--task", "vqa", "--checkpoint", tmp.toString(), "--annotations",
        tmp.resolve("missing.json").toString()), 2, "mplug evaluate: ");
    assertTrue(line.contains("--annotations " + tmp.resolve("missing.json") + " does not exist"), line);
    line = assertOneLine(run("evaluate", "--task", "vqa", "--checkpoint", tmp.toString(), "--annotations",
        ann.toString()), 2, "mplug evaluate: ");
    assertTrue(line.contains("--vocab " + tmp.resolve("vocab.txt") + " does not exist"), line);
  }

  /** The pretrained model evaluated on retrieval through the command: metrics printed, results written. */
  @Test
  void evaluateScoresACheckpointAndWritesResults() throws IOException {
    Path world = PretrainedShapes.world();
    Path out = tmp.resolve("results.json");
    CliErrorsTest.Result r = run("evaluate", "--task", "retrieval", "--checkpoint",
        PretrainedShapes.checkpoint().toString(), "--annotations", world.resolve(SynthFiles.RETRIEVAL_TEST).toString(),
        "--max-items", "20", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("r_mean"), r.out());
    JsonNode results = new ObjectMapper().readTree(out.toFile());
    assertTrue(results.isArray() && !results.isEmpty(), results.toString());
  }
}
