package dev.mplug.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.mplug.data.image.Images;
import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.model.MPlug;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.Tasks;
import dev.mplug.task.TrainedModel;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.vqa.VqaHead;
import dev.mplug.testing.HeadCheckpoints;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device as a value of the API: {@link MPlugModel.Builder#device} refuses what this libtorch cannot use, loads
 * the weights where it is told, and the heads put host inputs on the model's device and leave their outputs there
 * (with "cpu" here: no GPU on this machine).
 */
class MPlugModelDeviceTest {
  @TempDir static Path dir;
  static Path world;
  static Path checkpoint;

  @BeforeAll
  static void checkpoint() throws Exception {
    world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(8, 0, 3, 64));
    checkpoint = HeadCheckpoints.demo(world.resolve("demo.safetensors"), 9);
  }

  private static ImageInput image(int i) {
    return ImageInput.of(world.resolve(SynthFiles.image(i)));
  }

  @Test
  void aDeviceThisLibtorchCannotUseIsRefusedBeforeLoading() {
    MPlugModel.Builder b = MPlugModel.builder(dir.resolve("absent.safetensors"));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> b.device("gpu"));
    assertEquals("device: expected cpu or cuda:N, got 'gpu'", bad.getMessage());
    TorchRuntime.load();
    assumeFalse(TorchRuntime.cudaAvailable(), "a CUDA machine: cuda:0 is accepted there");
    TorchException e = assertThrows(TorchException.class, () -> b.device("cuda:0"));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().startsWith("device cuda:0: " + (TorchRuntime.gpuBuild()
        ? "the GPU libtorch sees no CUDA device" : "this libtorch is the CPU build")), e.getMessage());
  }

  @Test
  void onTheCpuDeviceTheModelAnswersAsTheDefaultOne() {
    List<ImageInput> images = List.of(image(0), image(1), image(2));
    List<Caption> expected;
    try (MPlugModel plain = MPlugModel.builder(checkpoint).task(Task.CAPTION).maxLength(5).build()) {
      assertEquals("cpu", plain.device(), "the default");
      expected = plain.captionAll(images);
    }
    try (MPlugModel onCpu = MPlugModel.builder(checkpoint).task(Task.CAPTION).maxLength(5).device("cpu").build()) {
      assertEquals("cpu", onCpu.device());
      assertEquals(expected, onCpu.captionAll(images));
    }
  }

  @Test
  void headsPutHostInputsOnTheModelsDeviceAndLeaveTheirOutputsThere() {
    ComputeDevice requested = ComputeDevice.parse("cpu", "device");
    BertTokenizer tokenizer = BertTokenizer.load(world.resolve(SynthFiles.VOCAB));
    MPlug vqa = load("vqa", requested);
    MPlug retrieval = load("retrieval", requested);
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      Tensor images = EvalImages.batch(List.of(image(0), image(1)), vqa.config().vision().imageRes(),
          Images.DEFAULT_MAX_PIXELS);
      TokenBatch questions = tokenizer.encodeBatch(List.of("what shape is it?", "what color?"), 20, Padding.LONGEST);
      VqaHead.QuestionStates q = new VqaHead(vqa, tokenizer.vocabulary().padId())
          .encode(images, questions.idsTensor(), questions.maskTensor());
      assertTrue(requested.holds(q.states()) && requested.holds(q.mask()));
      RetrievalHead head = new RetrievalHead(retrieval);
      RetrievalHead.Images index = head.images(2, 1, (start, count) -> images.narrow(0, start, count));
      assertTrue(requested.holds(index.embeds()) && requested.holds(index.features()));
      RetrievalHead.Texts texts = head.texts(questions, 1);
      assertTrue(requested.holds(texts.embeds()) && requested.holds(texts.mask()));
      float[] scores = head.pairScores(index.embeds(), new long[] {0, 1}, texts, new long[] {1, 0});
      assertEquals(2, scores.length);
      assertTrue(Float.isFinite(scores[0]) && scores[0] != scores[1], "two different pairs read back");
    } finally {
      vqa.close();
      retrieval.close();
    }
  }

  /** The task's model of the checkpoint on {@code device}: every weight there. */
  private static MPlug load(String task, ComputeDevice device) {
    MPlug model = TrainedModel.load(checkpoint, null, Tasks.of(FinetuneConfig.defaults(task, List.of())), device)
        .model();
    assertEquals(device, model.device());
    assertTrue(model.namedParameters().values().stream().allMatch(device::holds), "every weight moved");
    return model;
  }
}
