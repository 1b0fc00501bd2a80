package dev.mplug.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Fine-tuning configs: the shipped ones parse, defaults and overrides resolve, and bad values fail with one line. */
class FinetuneConfigTest {
  @TempDir Path tmp;

  @Test
  void everyShippedConfigIsIndexedAndEveryTaskHasItsThree() throws IOException {
    List<String> files;
    try (Stream<Path> s = Files.list(Path.of("java/resources/configs"))) {
      files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".txtpb"))
          .map(n -> n.substring(0, n.length() - ".txtpb".length())).sorted().toList();
    }
    assertEquals(files, ConfigText.shipped().stream().sorted().toList(), "configs/INDEX lists the shipped configs");
    assertEquals(List.of("vqa", "caption", "retrieval", "grounding", "snli-ve", "nlvr2", "video-retrieval", "video-qa",
        "video-caption"), Tasks.names());
    for (String task : Tasks.names()) {
      for (String size : List.of("demo", "base", "large")) {
        FinetuneConfig c = FinetuneConfig.load(task + "-" + size, List.of());
        assertEquals(task, c.task(), task + "-" + size);
        Tasks.of(c);   // the task accepts its section
      }
    }
  }

  @Test
  void defaultsAndOverrides() {
    FinetuneConfig c = FinetuneConfig.defaults("vqa", List.of("data.batch_size=4", "train.lr=3e-5"));
    assertEquals(4, c.data().batchSize());
    assertEquals(3e-5, c.train().lr());
    assertNull(c.data().annotations());
    assertNull(c.eval());
    assertEquals(Path.of("runs/vqa"), c.outputDir());
    assertEquals("", c.bestMetric());

    FinetuneConfig d = FinetuneConfig.defaults("caption", List.of("data.annotations=" + tmp.resolve("a/train.json"),
        "eval.annotations=" + tmp.resolve("b/test.json"), "eval.max_items=7"));
    assertEquals(tmp.resolve("a").toAbsolutePath(), d.data().root());
    assertEquals(tmp.resolve("a").toAbsolutePath().resolve("vocab.txt"), d.data().vocab());
    assertEquals(tmp.resolve("b").toAbsolutePath(), d.eval().root());
    assertEquals(7, d.eval().maxItems());
  }

  @Test
  void badValuesFailWithTheKeyNamed() throws IOException {
    assertMessage("task \"nlvr\" is not one of [vqa, caption, retrieval, grounding, snli-ve, nlvr2, video-retrieval, "
        + "video-qa, video-caption]",
        () -> FinetuneConfig.defaults("nlvr", List.of()));
    assertMessage("unknown key learning_rate", () -> FinetuneConfig.defaults("vqa", List.of("train.learning_rate=1")));
    assertMessage("data.max_tokens = 400 exceeds the model's max_position_embeddings",
        () -> FinetuneConfig.defaults("vqa", List.of("model=model-demo", "data.max_tokens=400")));
    assertMessage("eval.max_items must be >= 0", () -> FinetuneConfig.defaults("vqa",
        List.of("eval.annotations=x.json", "eval.max_items=-1")));
    Path file = Files.writeString(tmp.resolve("bad.txtpb"), "task: \"vqa\"\ndata { batch_size: \"eight\" }\n");
    assertMessage(file + ": 2:", () -> FinetuneConfig.load(file.toString(), List.of()));
    Path noTask = Files.writeString(tmp.resolve("notask.txtpb"), "model: \"tiny\"\n");
    assertMessage("task is required", () -> FinetuneConfig.load(noTask.toString(), List.of()));
    FinetuneConfig noData = FinetuneConfig.defaults("vqa", List.of());
    assertMessage("data.annotations is required", noData::checkTrainingInputs);
    FinetuneConfig missing = FinetuneConfig.defaults("vqa", List.of("data.annotations=" + tmp.resolve("none.json")));
    assertMessage(tmp.resolve("none.json") + " does not exist", missing::checkTrainingInputs);
  }

  private static void assertMessage(String part, Executable run) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, run);
    assertTrue(e.getMessage().contains(part), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
  }
}
