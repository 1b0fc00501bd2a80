package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.task.PretrainedShapes;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.CheckpointStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.io.SafeTensors;
import dev.mplug.io.StateDict;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.torch.TensorScope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
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
  void resumedRunRepeatsTheUninterruptedLossesAndCheckpointFilesBitForBit() throws IOException {
    String[] schedule = {"train.total_steps=6", "train.warmup_steps=2", "train.checkpoint_every=3",
        "train.log_every=1", "data.batch_size=8", "objectives.queue_size=16", "objectives.alpha=0.4",
        "objectives.alpha_ramp_steps=2"};  // distillation on, although the demo recipe has it off
    List<Double> full = PretrainRun.run(config(tmp.resolve("full"), schedule), false, null, QUIET).summary().losses();
    List<Double> first = PretrainRun.run(config(tmp.resolve("split"), schedule), false, null, QUIET, 3).summary()
        .losses();
    TorchRuntime.seed(12345);   // disturb the generator: the resume must restore it
    PretrainRun.Report second = PretrainRun.run(config(tmp.resolve("split"), schedule), true, null, QUIET);
    assertEquals(6, full.size());
    assertEquals(full.subList(0, 3), first);
    assertEquals(full.subList(3, 6), second.summary().losses(), "losses after --resume equal the uninterrupted run's");
    assertEquals("step-000000006", second.checkpoint().getFileName().toString());
    // the checkpoints are the same files, byte for byte: the one the interrupted run wrote at step 3 and the one the
    // resumed run wrote at step 6 (model, momentum model and queues, optimizer, trainer.json with the RNG state and
    // the data position, MANIFEST.json); nothing differs legitimately, so nothing is excluded
    for (String step : List.of("step-000000003", "step-000000006")) {
      Path a = tmp.resolve("full/checkpoints").resolve(step);
      Path b = tmp.resolve("split/checkpoints").resolve(step);
      assertEquals(fileNames(a), fileNames(b), step);
      assertEquals(List.of("MANIFEST.json", "model.safetensors", "optimizer.safetensors", "trainer.json"),
          fileNames(a));
      for (String f : fileNames(a)) {
        assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), step + "/" + f);
      }
    }
  }

  private static List<String> fileNames(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * A fresh run starts from CLIP and BERT files (the load reports are printed; the momentum twins start at the loaded
   * values: with momentum 1 they never move, so the last checkpoint still holds the files' values), every checkpoint
   * is scored by the --eval metric, and the best survives keep_last = 1 across a --resume, which ignores init.
   */
  @Test
  @SuppressWarnings("try") // the tensor scope frees memory by being open
  void initFromClipAndBertAndTheBestCheckpointIsKept() throws Exception {
    Path out = tmp.resolve("init");
    String[] sets = {"train.total_steps=4", "train.warmup_steps=1", "train.checkpoint_every=1", "train.keep_last=1",
        "data.batch_size=4", "objectives.queue_size=8", "objectives.momentum=1", "train.best_metric=mean_r1",
        "init.vision=" + tmp.resolve("clip.safetensors"), "init.text=" + tmp.resolve("bert.safetensors")};
    PretrainConfig cfg = config(out, sets);
    Map<String, Tensor> shapes = new MPlug(cfg.model().withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER,
        Part.FUSION, Part.DECODER, Part.ITC_ITM_HEADS))).namedParameters();
    PretrainedFiles.clip(shapes, tmp.resolve("clip.safetensors"));
    PretrainedFiles.bert(shapes, 3, tmp.resolve("bert.safetensors"));
    var evaluation = new PretrainRun.Evaluation(world.resolve(SynthFiles.RETRIEVAL_TEST), world, 8, 4);

    ByteArrayOutputStream first = new ByteArrayOutputStream();
    PretrainRun.run(cfg, false, evaluation, new PrintStream(first, true), 2);
    String log1 = first.toString();
    assertTrue(log1.contains("init.vision: weights from " + tmp.resolve("clip.safetensors") + ": loaded "), log1);
    assertTrue(log1.contains("init.text: weights from " + tmp.resolve("bert.safetensors") + ": loaded "), log1);
    assertTrue(log1.contains("missing: 0") && log1.contains("unexpected: 0"), log1);
    ByteArrayOutputStream second = new ByteArrayOutputStream();
    PretrainRun.Report r = PretrainRun.run(cfg, true, evaluation, new PrintStream(second, true));
    String log2 = second.toString();
    assertTrue(log2.contains("init: not used on --resume") && !log2.contains("init.vision:"), log2);

    // the scores printed at steps 1..4; the best is the first of the highest
    Map<Long, Double> scores = new TreeMap<>();
    Matcher m = Pattern.compile("step (\\d+): mean_r1 = ([0-9.]+)").matcher(log1 + log2);
    while (m.find()) scores.put(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)));
    assertEquals(List.of(1L, 2L, 3L, 4L), List.copyOf(scores.keySet()), log1 + log2);
    long bestStep = scores.entrySet().stream().reduce((a, b) -> b.getValue() > a.getValue() ? b : a).orElseThrow()
        .getKey();
    CheckpointStore store = new CheckpointStore(out.resolve("checkpoints"), 1);
    CheckpointStore.Best best = store.best().orElseThrow();
    assertEquals(String.format("step-%09d", bestStep), best.checkpoint().getFileName().toString(), scores.toString());
    assertEquals(best.checkpoint(), r.best());
    assertEquals("mean_r1", best.score().metric());
    assertEquals(scores.get(bestStep), best.score().value(), 0.005);
    JsonNode recorded = new ObjectMapper().readTree(best.checkpoint().resolve("trainer.json").toFile()).path("score");
    assertEquals(best.score().value(), recorded.path("value").asDouble(), 0.0, "the checkpoint records its score");
    List<Path> kept = store.list();
    assertEquals(bestStep == 4 ? 1 : 2, kept.size(), "the last one and the best: " + kept);
    // with --eval the after figures are the last checkpoint's evaluation
    assertEquals(scores.get(4L), r.after().metric("mean_r1"), 0.005);

    try (TensorScope s = TensorScope.open();
        StateDict last = SafeTensors.read(r.checkpoint().resolve("model.safetensors"));
        StateDict clip = SafeTensors.read(tmp.resolve("clip.safetensors"));
        StateDict bert = SafeTensors.read(tmp.resolve("bert.safetensors"))) {
      assertTrue(last.get("state/visual_encoder_m.visual.conv1.weight").equal(clip.get("visual.conv1.weight")));
      assertTrue(last.get("state/text_encoder_m.encoder.layer.1.output.dense.weight")
          .equal(bert.get("bert.encoder.layer.1.output.dense.weight")));
      assertFalse(last.get("visual_encoder.visual.conv1.weight").equal(clip.get("visual.conv1.weight")),
          "the online encoder trained away from its start");
    }
  }

  /**
   * The demo's recipe on a smaller world and schedule (600 steps, about 4 minutes on one core; the run the fine-tuning
   * tests start from): retrieval and MLM rise clearly above their untrained values (chance R@5 on 100 images is 5%),
   * and ITM leaves its prior (one positive in three: 0.637 nats, where it stayed with hard negatives).
   */
  @Test
  void pretrainingLearnsRetrievalMaskedWordsAndMatching() throws IOException {
    PretrainRun.Report r = PretrainedShapes.report();
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

    // the logged ITM losses of the last 150 steps (logged every 50), from the run's metrics file
    Path metrics = r.checkpoint().getParent().getParent().resolve("metrics.jsonl");
    ObjectMapper json = new ObjectMapper();
    List<Double> itm = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) itm.add(json.readTree(line).get("loss/itm").asDouble());
    double lastItm = itm.subList(itm.size() - 3, itm.size()).stream().mapToDouble(d -> d).average().orElseThrow();
    double prior = -(Math.log(1 / 3.0) / 3 + 2 * Math.log(2 / 3.0) / 3);
    System.out.printf("[learning] ITM loss: first logged %.3f, mean of the last three %.3f, prior %.3f%n", itm.get(0),
        lastItm, prior);
    assertTrue(lastItm < prior - 0.05, "ITM loss " + lastItm + " vs its prior " + prior);
  }

  /** Two damaged entries met in each of 3 epochs: 2 distinct bad samples, 6 substitutions, both in the summary. */
  @Test
  void theSummaryCountsDistinctBadSamplesAndSubstitutionsApart() throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Object> entries = new ArrayList<>(json.readValue(world.resolve(SynthFiles.PRETRAIN).toFile(), List.class)
        .subList(0, 16));
    entries.add(Map.of("image", "images/missing-1.jpg", "caption", "a red circle"));
    entries.add(Map.of("image", "images/missing-2.jpg", "caption", "a blue square"));
    Path annotations = tmp.resolve("damaged.json");
    json.writeValue(annotations.toFile(), entries);
    PretrainRun.Report r = PretrainRun.run(config(tmp.resolve("damaged"), "data.annotations=" + annotations,
        "data.batch_size=6", "train.total_steps=9", "train.warmup_steps=1", "objectives.queue_size=12",
        "data.max_bad_fraction=0.2"), false, null, QUIET);   // 18 samples, 3 batches per epoch, 2/18 = 11% bad
    assertEquals(new PretrainRun.BadSamples(2, 6), r.badSamples());
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    PretrainRun.printTable(r, new PrintStream(table, true));
    assertTrue(table.toString().contains("\nbad samples: 2 distinct, 6 substitutions\n"), table.toString());

    // the limit is on distinct samples over the dataset: 2 of 18 is above 10%, whatever the epoch
    var e = assertThrows(RuntimeException.class, () -> PretrainRun.run(config(tmp.resolve("damaged-strict"),
        "data.annotations=" + annotations, "data.batch_size=6", "train.total_steps=9", "train.warmup_steps=1",
        "objectives.queue_size=12", "data.max_bad_fraction=0.1"), false, null, QUIET));
    assertTrue(e.getMessage().contains("2 distinct samples of the 18 in the dataset (11.1%) were bad"),
        e.getMessage());
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
    assertTrue(e.getMessage().contains("no complete checkpoint") && e.getMessage().contains(ckpt.getFileName()
        + ": model.safetensors fails its CRC32C"), e.getMessage());

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
