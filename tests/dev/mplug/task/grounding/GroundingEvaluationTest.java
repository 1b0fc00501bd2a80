package dev.mplug.task.grounding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.eval.ResultFile;
import dev.mplug.eval.grounding.GroundingAccuracy;
import dev.mplug.eval.grounding.GroundingAnnotations;
import dev.mplug.eval.grounding.NormalizedBox;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluation on a random tiny model: results in the format {@code mplug score grounding} reads, scored the same
 * way, in file order, with the model's mode restored; and the config section's errors.
 */
class GroundingEvaluationTest {
  @TempDir Path tmp;

  @Test
  void resultsScoreAsTheScoreCommandScoresThem() throws IOException {
    Seeds.fresh("resultsScoreAsTheScoreCommandScoresThem");
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 64));
    Path test = world.resolve(SynthFiles.GROUNDING_TEST);
    BertTokenizer tok = BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
    try (TensorScope _ = TensorScope.open()) {
      MPlug model = GroundingHeadTest.tinyModel(tok.vocabulary().size());
      model.train(true);
      GroundingHead head = new GroundingHead(model, BoxTokens.of(tok.vocabulary()), GroundingHead.Weights.OFFICIAL);
      TaskEvaluation e = GroundingEvaluation.evaluate(head, tok, FinetuneConfig.Eval.of(test, world, 0, 3), 16);
      assertTrue(model.is_training(), "the model's training mode is restored");
      assertEquals(List.of("accuracy", "mean_iou", "centre_hits"), List.copyOf(e.metrics().keySet()));

      Map<String, NormalizedBox> truth = GroundingAnnotations.read(test, world);
      assertEquals(List.copyOf(truth.keySet()), e.results().stream().map(r -> r.get("ref_id").toString()).toList());
      Path written = tmp.resolve("results.json");
      new ObjectMapper().writeValue(written.toFile(), e.results());
      Map<String, NormalizedBox> predictions = ResultFile.read(written, "ref_id", truth.keySet(), r -> {
        double[] b = r.numbers("bbox", 4);
        return new NormalizedBox((float) b[0], (float) b[1], (float) b[2], (float) b[3]);
      });
      GroundingAccuracy.Report report = GroundingAccuracy.score(truth, predictions);
      assertEquals(100 * report.accuracy(), e.metric("accuracy"), 0.0);
      double meanIou = report.perItem().values().stream().mapToDouble(Float::doubleValue).average().orElseThrow();
      assertEquals(100 * meanIou, e.metric("mean_iou"), 1e-9);
      long centres = truth.keySet().stream().filter(id -> predictions.get(id).clampedToUnit().centreInside(truth.get(id)))
          .count();
      assertEquals(100.0 * centres / truth.size(), e.metric("centre_hits"), 1e-9);

      TaskEvaluation firstTwo = GroundingEvaluation.evaluate(head, tok, FinetuneConfig.Eval.of(test, world, 2, 3), 16);
      assertEquals(e.results().subList(0, 2), firstTwo.results());
    }
  }

  @Test
  void configErrorsNameTheKey() {
    FinetuneConfig bad = FinetuneConfig.defaults("grounding", List.of("grounding.giou_weight=-0.5"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tasks.of(bad));
    assertEquals("grounding.giou_weight must be >= 0", e.getMessage());
    assertTrue(Tasks.names().contains("grounding"));
  }

  @Test
  void aMissingImageIsTheUsersError() throws IOException {
    Path world = tmp.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 64));
    Path test = world.resolve(SynthFiles.GROUNDING_TEST);
    String first = new ObjectMapper().readTree(test.toFile()).get(0).get("image").asText();
    Files.delete(world.resolve(first));
    BertTokenizer tok = BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
    try (TensorScope _ = TensorScope.open()) {
      GroundingHead head = new GroundingHead(GroundingHeadTest.tinyModel(tok.vocabulary().size()),
          BoxTokens.of(tok.vocabulary()), GroundingHead.Weights.OFFICIAL);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GroundingEvaluation.evaluate(head, tok, FinetuneConfig.Eval.of(test, world, 0, 3), 16));
      assertTrue(e.getMessage().startsWith("eval.annotations: " + test + ": image "), e.getMessage());
      assertTrue(e.getMessage().contains(first.substring(first.lastIndexOf('/') + 1)), e.getMessage());
    }
  }
}
