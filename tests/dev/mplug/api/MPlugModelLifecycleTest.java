package dev.mplug.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.Part;
import dev.mplug.task.pretrain.PretrainConfig;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading (task from the checkpoint, options, errors), the three image forms, and close, on untrained models. */
class MPlugModelLifecycleTest {
  @TempDir static Path dir;
  static Path world;
  static Path demo;

  @BeforeAll
  static void checkpoints() {
    world = RandomCheckpoint.world(dir);
    demo = RandomCheckpoint.demo(world, 7);
  }

  @Test
  void theTaskIsReadFromTheCheckpointsPartsWhereTheyTell() {
    var config = PretrainConfig.modelConfig("model-demo");
    Path caption = RandomCheckpoint.save(config.withParts(EnumSet.of(Part.VISION, Part.DECODER)),
        world.resolve("caption.safetensors"), 1);
    Path retrieval = RandomCheckpoint.save(config.withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION,
        Part.ITC_ITM_HEADS)), world.resolve("retrieval.safetensors"), 1);
    try (MPlugModel m = MPlugModel.load(caption)) {
      assertEquals(Task.CAPTION, m.task());
    }
    try (MPlugModel m = MPlugModel.load(retrieval)) {
      assertEquals(Task.RETRIEVAL, m.task());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MPlugModel.load(demo));
    assertTrue(e.getMessage().contains("serve more than one task: give the task"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> MPlugModel.builder(caption).task(Task.VQA).build());
    assertTrue(e.getMessage().contains("lacks") && e.getMessage().contains("parameters of this task's model"),
        e.getMessage());
  }

  @Test
  void badInputsAreOneLineErrorsNamingTheInput() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MPlugModel.load(world.resolve("none.safetensors")));
    assertEquals("checkpoint " + world.resolve("none.safetensors") + " does not exist", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> MPlugModel.builder(demo).task(Task.VQA).vocab(world.resolve("no-vocab.txt")).build());
    assertTrue(e.getMessage().startsWith("vocab " + world.resolve("no-vocab.txt") + " does not exist"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> MPlugModel.builder(demo).task(Task.RETRIEVAL).beamSize(3).build());
    assertEquals("beam size and max length are for vqa, caption and video-caption models, not retrieval",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> MPlugModel.builder(demo).batchSize(0));
    try (MPlugModel vqa = MPlugModel.builder(demo).task(Task.VQA).build()) {
      ImageInput image = ImageInput.of(RandomCheckpoint.image(world, 0));
      e = assertThrows(IllegalArgumentException.class, () -> vqa.caption(image));
      assertEquals("caption needs a caption model; " + demo + " is loaded for vqa", e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> vqa.answer(ImageInput.of("not an image".getBytes(), "upload"), "what?"));
      assertTrue(e.getMessage().startsWith("upload: "), e.getMessage());
      Path missing = world.resolve("missing.jpg");
      e = assertThrows(IllegalArgumentException.class, () -> vqa.answer(ImageInput.of(missing), "what?"));
      assertEquals(missing + ": file not found", e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> vqa.answer(ImageInput.of(RandomCheckpoint.image(world, 0)), " "));
      assertEquals("question 0 is empty", e.getMessage());
    }
    try (MPlugModel small = MPlugModel.builder(demo).task(Task.VQA).maxPixels(100).build()) {
      e = assertThrows(IllegalArgumentException.class,
          () -> small.answer(ImageInput.of(RandomCheckpoint.image(world, 0)), "what?"));
      assertTrue(e.getMessage().contains("is over the limit of 100"), e.getMessage());
    }
  }

  @Test
  void aFileItsBytesAndItsBufferedImageGiveTheSameAnswer() throws Exception {
    Path file = RandomCheckpoint.image(world, 2);
    BufferedImage decoded = ImageIO.read(file.toFile());
    try (MPlugModel vqa = MPlugModel.builder(demo).task(Task.VQA).build()) {
      Answer fromFile = vqa.answer(ImageInput.of(file), "what color is the shape?");
      assertEquals(fromFile, vqa.answer(ImageInput.of(Files.readAllBytes(file), "bytes"), "what color is the shape?"));
      // a BufferedImage holds ImageIO's JPEG decoding, which may differ from OpenCV's by a level here and there;
      // the PNG the BufferedImage becomes is lossless, so that image itself answers the same as its bytes
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(decoded, "png", png);
      assertEquals(vqa.answer(ImageInput.of(png.toByteArray(), "png"), "what color is the shape?"),
          vqa.answer(ImageInput.of(decoded), "what color is the shape?"));
    }
  }

  @Test
  void closeFreesTheModelAndLaterCallsFail() {
    MPlugModel vqa = MPlugModel.builder(demo).task(Task.VQA).build();
    ImageInput image = ImageInput.of(RandomCheckpoint.image(world, 1));
    vqa.answer(image, "how many shapes are there?");
    vqa.close();
    vqa.close();   // idempotent
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> vqa.answerAll(List.of(new ImageText(image, "how many shapes are there?"))));
    assertEquals("the model of " + demo + " is closed", e.getMessage());
  }
}
