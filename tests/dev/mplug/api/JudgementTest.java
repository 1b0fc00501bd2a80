package dev.mplug.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.model.MPlug;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.task.TrainedModel;
import dev.mplug.testing.HeadCheckpoints;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SNLI-VE and NLVR2 through the API give the verdicts of {@code mplug evaluate} on the same items (a seeded demo
 * model with its classifier saved, so both load the same weights), one at a time and batched.
 */
class JudgementTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ITEMS = 10;

  @TempDir static Path dir;
  static Path world;

  @BeforeAll
  static void world() {
    world = RandomCheckpoint.world(dir);
  }

  private static Path checkpoint(String task, long seed) {
    return HeadCheckpoints.save(task, dir.resolve(task + ".safetensors"), seed);
  }

  private static List<String> evaluated(Path checkpoint, String task, String file) {
    DownstreamTask<?> t = Tasks.of(FinetuneConfig.defaults(task, List.of()));
    MPlug model = TrainedModel.load(checkpoint, null, t).model();
    try {
      TaskEvaluation e = t.evaluate(model, BertTokenizer.load(world.resolve(SynthFiles.VOCAB)),
          FinetuneConfig.Eval.of(world.resolve(file), world, ITEMS, 4));
      return e.results().stream().map(r -> (String) r.get("prediction")).toList();
    } finally {
      model.close();
    }
  }

  private static List<JsonNode> entries(String file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode e : JSON.readTree(world.resolve(file).toFile())) if (out.size() < ITEMS) out.add(e);
    return out;
  }

  private static ImageInput image(String name) {
    return ImageInput.of(world.resolve(name));
  }

  private static MPlugModel.Builder model(Path checkpoint, Task task) {
    return MPlugModel.builder(checkpoint).task(task).vocab(world.resolve(SynthFiles.VOCAB)).threads(1);
  }

  @Test
  void entailmentVerdictsEqualTheEvaluationsOneByOneAndBatched() throws IOException {
    Path ckpt = checkpoint("snli-ve", 21);
    List<ImageText> requests = entries(SynthFiles.SNLI_VE_TEST).stream()
        .map(e -> new ImageText(image(e.get("image").asText()), e.get("sentence").asText())).toList();
    List<String> expected = evaluated(ckpt, "snli-ve", SynthFiles.SNLI_VE_TEST);
    try (MPlugModel ve = model(ckpt, Task.SNLI_VE).batchSize(4).build()) {
      List<Judgement> batched = ve.entailAll(requests);
      assertEquals(expected, batched.stream().map(Judgement::label).toList());
      Set<Double> distinct = new HashSet<>();
      for (int i = 0; i < requests.size(); i++) {
        Judgement one = ve.entail(requests.get(i).image(), requests.get(i).text());
        assertEquals(batched.get(i).label(), one.label());
        assertEquals(List.of("contradiction", "neutral", "entailment"), List.copyOf(one.probabilities().keySet()));
        double sum = one.probabilities().values().stream().mapToDouble(Double::doubleValue).sum();
        assertEquals(1.0, sum, 1e-5);
        assertEquals(batched.get(i).confidence(), one.confidence(), 1e-5, "batched = one by one at " + i);
        distinct.add(Math.rint(one.confidence() * 1e6));
      }
      assertTrue(distinct.size() > 1, "the verdicts differ between items: " + distinct);
      var e = assertThrows(IllegalArgumentException.class, () -> ve.entail(requests.get(0).image(), " "));
      assertTrue(e.getMessage().contains("hypothesis"), e.getMessage());
    }
  }

  @Test
  void nlvr2VerdictsEqualTheEvaluationsAndOnlyAnNlvr2ModelVerifies() throws IOException {
    Path ckpt = checkpoint("nlvr2", 22);
    List<ImagePairText> requests = entries(SynthFiles.NLVR2_TEST).stream()
        .map(e -> new ImagePairText(image(e.get("images").get(0).asText()), image(e.get("images").get(1).asText()),
            e.get("sentence").asText())).toList();
    List<String> expected = evaluated(ckpt, "nlvr2", SynthFiles.NLVR2_TEST);
    try (MPlugModel nlvr = model(ckpt, Task.NLVR2).batchSize(3).build()) {
      List<Judgement> batched = nlvr.verifyAll(requests);
      assertEquals(expected, batched.stream().map(Judgement::label).toList());
      Judgement first = nlvr.verify(requests.get(0).left(), requests.get(0).right(), requests.get(0).text());
      assertEquals(batched.get(0).probabilities().get("True"), first.probabilities().get("True"), 1e-5);
      assertEquals(List.of("False", "True"), List.copyOf(first.probabilities().keySet()));
      Set<Double> distinct = new HashSet<>();
      for (Judgement j : batched) distinct.add(Math.rint(j.probabilities().get("True") * 1e6));
      assertTrue(distinct.size() > 1, "the verdicts differ between items: " + distinct);
      var e = assertThrows(IllegalArgumentException.class,
          () -> nlvr.entail(requests.get(0).left(), "a red circle"));
      assertTrue(e.getMessage().startsWith("entail needs a snli-ve model; "), e.getMessage());
    }
  }
}
