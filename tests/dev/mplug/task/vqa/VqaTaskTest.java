package dev.mplug.task.vqa;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.eval.vqa.VqaAccuracy;
import dev.mplug.model.MPlug;
import dev.mplug.model.Part;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.testing.Seeds;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.train.Batches;
import dev.mplug.torch.TorchRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VQA task around the head: its config section, answers with the end token, references, scores, evaluation. */
class VqaTaskTest {
  @TempDir
  Path dir;

  @Test
  void shippedConfigsBuildTheTask() {
    for (String name : List.of("vqa-demo", "vqa-base", "vqa-large")) {
      FinetuneConfig cfg = FinetuneConfig.load(name, List.of());
      DownstreamTask<?> task = Tasks.of(cfg);
      assertEquals("vqa", task.name(), name);
      assertEquals(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER), task.parts(), name);
      assertEquals(List.of("vqa_accuracy", "exact_match"), task.metrics(), name);
      assertEquals(new VqaSettings(5, 10, null, 128), ((VqaTask) task).settings(), name);
    }
    assertEquals(256, FinetuneConfig.load("vqa-base", List.of()).model().vision().imageRes());
    assertEquals(3e-5, FinetuneConfig.load("vqa-base", List.of()).train().lr(), 1e-12);
  }

  @Test
  void theConfigSectionIsValidatedWithTheKeyNamed() {
    for (String[] c : new String[][] {{"vqa.beam_size=0", "vqa.beam_size must be >= 1, got 0"},
        {"vqa.max_answer_length=0", "vqa.max_answer_length must be >= 1, got 0"},
        {"vqa.answer_list_k=-1", "vqa.answer_list_k must be >= 1, got -1"},
        {"vqa.answer_list=" + dir.resolve("missing.json"), "vqa.answer_list: " + dir.resolve("missing.json")
            + " does not exist"}}) {
      FinetuneConfig cfg = FinetuneConfig.load("vqa-demo", List.of(c[0]));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tasks.of(cfg), c[0]);
      assertEquals(c[1], e.getMessage());
    }
  }

  @Test
  void answersEndWithTheExtraSepOfTheOfficialLoader() {
    // ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, yes 5, two 6, dogs 7
    BertTokenizer tok = new BertTokenizer(Vocabulary.of(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "yes",
        "two", "dogs")));
    assertEquals("yes[SEP]", VqaData.withEos("yes"));
    TorchRuntime.load();
    try (AnswerList list = new AnswerList(List.of("yes", "two dogs"), tok, 16)) {
      assertArrayEquals(new long[] {2, 5, 3, 3, 0, 2, 6, 7, 3, 3}, Tensors.toLongs(list.ids()));
      assertArrayEquals(new long[] {1, 1, 1, 1, 0, 1, 1, 1, 1, 1}, Tensors.toLongs(list.mask()));
      assertEquals("two dogs", list.answer(1));
    }
  }

  @Test
  void trainingBatchesHoldEachAnswerWithTheExtraSep() {
    Path world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 32));
    FinetuneConfig cfg = FinetuneConfig.load("vqa-demo", List.of("data.annotations=" + world.resolve(
        SynthFiles.VQA_TRAIN), "data.root=" + world, "data.workers=0", "data.batch_size=4"));
    BertTokenizer tok = BertTokenizer.load(cfg.data().vocab());
    int sep = tok.vocabulary().sepId();
    try (TensorScope _ = TensorScope.open();
        Batches<VqaBatch> data = ((VqaTask) Tasks.of(cfg)).trainingData(tok, 1, 0, 1)) {
      VqaBatch b = data.next();
      assertEquals(4, b.size());
      assertArrayEquals(new long[] {4, 3, 64, 64}, Tensors.shape(b.images()));
      assertArrayEquals(new long[] {1, 1, 1, 1}, Tensors.toLongs(b.answerCounts()), "one answer per shapes question");
      assertArrayEquals(new float[] {1, 1, 1, 1}, Tensors.toFloats(b.answerWeights()), 0f, "count 1 of 1 answer");
      long[] ids = Tensors.toLongs(b.answerIds());
      long[] lengths = Tensors.toLongs(b.answerMask().sum(new long[] {1}, false, new ScalarTypeOptional()));
      int width = (int) b.answerIds().size(1);
      for (int a = 0; a < 4; a++) {
        int n = (int) lengths[a];
        assertEquals(tok.vocabulary().clsId(), ids[a * width], "answer " + a + " starts with [CLS]");
        assertEquals(sep, ids[a * width + n - 1], "answer " + a + " ends with [SEP]");
        assertEquals(sep, ids[a * width + n - 2], "answer " + a + ": the official eos [SEP] before it");
      }
    }
  }

  @Test
  void aBadAnswerListFileIsOneLineNamingIt() throws Exception {
    BertTokenizer tok = new BertTokenizer(Vocabulary.of(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")));
    Path broken = Files.writeString(dir.resolve("broken.json"), "[\"yes\",\n");
    Path empty = Files.writeString(dir.resolve("empty.json"), "{}");
    Path number = Files.writeString(dir.resolve("number.json"), "[\"yes\", 2]");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> AnswerList.read(broken, tok, 8)).getMessage()
        .startsWith("vqa.answer_list: " + broken + " is not valid JSON (line "));
    assertEquals("vqa.answer_list: " + empty + " must be a non-empty JSON list of strings (or an object whose keys "
        + "are the answers)", assertThrows(IllegalArgumentException.class, () -> AnswerList.read(empty, tok, 8))
        .getMessage());
    assertEquals("vqa.answer_list: " + number + " entry 1 is not a string: 2",
        assertThrows(IllegalArgumentException.class, () -> AnswerList.read(number, tok, 8)).getMessage());
  }

  @Test
  void anAnswerToLabelObjectListsItsKeys() throws Exception {
    BertTokenizer tok = new BertTokenizer(Vocabulary.of(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "yes",
        "no")));
    Path ans2label = Files.writeString(dir.resolve("train_ans2label.json"), "{\"no\": 0, \"yes\": 1}");
    try (TensorScope scope = TensorScope.open(); AnswerList list = AnswerList.read(ans2label, tok, 8)) {
      assertEquals(2, list.size());
      assertEquals("no", list.answer(0), "the keys in file order (the official video QA list)");
      assertEquals("yes", list.answer(1));
    }
  }

  @Test
  void referencesReadTheMplugFormat() throws Exception {
    Path file = Files.writeString(dir.resolve("val.json"), """
        [{"question_id": 7, "question": "is it red?", "answer": ["yes"], "image": "a.jpg"},
         {"question_id": "8", "question": "how many?", "answer": ["2", "two", "2"], "image": "a.jpg"},
         {"question_id": 9, "question": "what?", "answer": "square", "image": "a.jpg"}]""");
    Map<String, VqaAccuracy.Question> refs = VqaReferences.read(file);
    assertEquals(List.of("7", "8", "9"), List.copyOf(refs.keySet()));
    assertEquals(new VqaAccuracy.Question(Collections.nCopies(10, "yes"), "yes/no", ""), refs.get("7"));
    assertEquals(new VqaAccuracy.Question(List.of("2", "two", "2"), "number", ""), refs.get("8"));
    assertEquals("other", refs.get("9").answerType());
    Path missing = Files.writeString(dir.resolve("test.json"), "[{\"question_id\": 3, \"question\": \"q\"}]");
    assertEquals("eval.annotations: " + missing + " question 3 has no answers (an evaluation file needs them: "
        + "vqa_val.json, not vqa_test.json)",
        assertThrows(IllegalArgumentException.class, () -> VqaReferences.read(missing)).getMessage());
    Path twice = Files.writeString(dir.resolve("twice.json"),
        "[{\"question_id\": 3, \"answer\": \"a\"}, {\"question_id\": 3, \"answer\": \"b\"}]");
    assertEquals("eval.annotations: " + twice + " has question 3 twice",
        assertThrows(IllegalArgumentException.class, () -> VqaReferences.read(twice)).getMessage());
  }

  /**
   * Question 1: 2 humans said "red", 8 "blue"; the result "red" scores, leaving out a "red" (2 times) 1 match / 3, a
   * "blue" (8 times) 2 matches / 3: (2 x 1/3 + 8 x 2/3) / 10 = 0.6, and it is not the most common answer. Question 2:
   * one "yes" (ten agreeing humans), result "yes": 1, an exact match. vqa_accuracy (60 + 100) / 2, exact_match 50.
   */
  @Test
  void scoresAreHandComputable() {
    List<String> humans = new ArrayList<>(List.of("red", "red"));
    for (int i = 0; i < 8; i++) humans.add("blue");
    Map<String, VqaAccuracy.Question> refs = new LinkedHashMap<>();
    refs.put("1", VqaReferences.question(humans));
    refs.put("2", VqaReferences.question(List.of("yes")));
    refs.put("3", VqaReferences.question(List.of("no")));   // not answered (eval.max_items): not scored
    Map<String, String> answers = new LinkedHashMap<>();
    answers.put("1", "red");
    answers.put("2", "Yes");
    Map<String, Double> m = VqaEvaluation.score(refs, answers);
    assertEquals(List.of("vqa_accuracy", "exact_match"), List.copyOf(m.keySet()));
    // "Yes" against ten "yes": the reference normalises nothing for unanimous answers, so it scores 0
    assertEquals((60.0 + 0) / 2, m.get("vqa_accuracy"), 1e-9);
    assertEquals(50.0, m.get("exact_match"), 1e-9, "exact match compares after the VQA normalisation");
    answers.put("2", "yes");
    m = VqaEvaluation.score(refs, answers);
    assertEquals((60.0 + 100) / 2, m.get("vqa_accuracy"), 1e-9);
    assertEquals(50.0, m.get("exact_match"), 1e-9);
  }

  @Test
  void evaluationAnswersTheFirstQuestionsInTheOfficialResultFormat() throws Exception {
    Path world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 32));
    FinetuneConfig cfg = FinetuneConfig.load("vqa-demo", List.of("data.annotations=" + world.resolve(
        SynthFiles.VQA_TRAIN), "data.root=" + world, "data.workers=1"));
    DownstreamTask<?> task = Tasks.of(cfg);
    BertTokenizer tok = BertTokenizer.load(cfg.data().vocab());
    Seeds.fresh("vqa evaluation");
    MPlug model = new MPlug(cfg.model().withParts(task.parts()));
    model.train(true);
    Path val = world.resolve(SynthFiles.VQA_VAL);
    TaskEvaluation e = task.evaluate(model, tok, FinetuneConfig.Eval.of(val, null, 5, 2));
    assertTrue(model.is_training(), "the model's mode is restored");
    JsonNode file = new ObjectMapper().readTree(val.toFile());
    assertEquals(5, e.results().size());
    for (int i = 0; i < 5; i++) {
      Map<String, Object> r = e.results().get(i);
      assertEquals(List.of("question_id", "answer"), List.copyOf(r.keySet()));
      assertEquals(file.get(i).get("question_id").asLong(), r.get("question_id"));
      assertTrue(r.get("answer") instanceof String);
    }
    assertEquals(List.of("vqa_accuracy", "exact_match"), List.copyOf(e.metrics().keySet()));

    Path list = Files.writeString(dir.resolve("answers.json"), "[\"yes\", \"no\", \"red\"]");
    FinetuneConfig ranked = FinetuneConfig.load("vqa-demo", List.of("data.annotations=" + world.resolve(
        SynthFiles.VQA_TRAIN), "data.root=" + world, "data.workers=1", "vqa.answer_list=" + list,
        "vqa.answer_list_k=2"));
    TaskEvaluation r = Tasks.of(ranked).evaluate(model, tok, FinetuneConfig.Eval.of(val, null, 4, 3));
    assertEquals(4, r.results().size());
    for (Map<String, Object> x : r.results()) {
      assertTrue(List.of("yes", "no", "red").contains(x.get("answer")), "an answer of the list: " + x);
    }
    assertFalse(Double.isNaN(r.metric("vqa_accuracy")));
  }
}
