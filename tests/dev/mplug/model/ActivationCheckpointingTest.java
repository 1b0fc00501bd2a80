package dev.mplug.model;

import static dev.mplug.testing.TensorAssert.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.loader.LoaderPosition;
import dev.mplug.nn.ActivationCheckpoint;
import dev.mplug.nn.ActivationCheckpoint.Stack;
import dev.mplug.nn.FusedAttention;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.Batches;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.Progress;
import dev.mplug.train.Trainer;
import dev.mplug.train.TrainerConfig;
import dev.mplug.train.TrainingTask;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Activation checkpointing of the ViT, text encoder, fusion and decoder stacks on the tiny model in training mode
 * (dropout 0.1 everywhere): the outputs and the gradient of every parameter equal the plain path's within 1e-6
 * relative (the recomputation redraws the same dropout masks), on the composite and the fused attention path, and a
 * trainer with {@code activation_checkpointing = all} repeats the plain trainer's losses.
 */
class ActivationCheckpointingTest {
  private static final double REL_TOL = 1e-6;
  private static final Tensor IDS = ids(new long[] {101, 5, 9, 17, 102, 0, 0, 101, 33, 44, 55, 66, 77, 102}, 2, 7);
  private static final Tensor MASK = ids(new long[] {1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1}, 2, 7);

  @TempDir Path tmp;

  private static Tensor ids(long[] v, long... shape) {
    TorchRuntime.load();
    return Tensors.longs(v, shape);
  }

  @AfterEach
  void plainAgain() {
    ActivationCheckpoint.use(Set.of());
    FusedAttention.use(FusedAttention.Mode.AUTO);   // the default
  }

  /** A loss through all four stacks: ITM logits of the fusion text stream plus decoder logits over [V; L]. */
  private static Tensor loss(MPlug m, Tensor images) {
    Tensor v = m.visionEmbeds(m.visionTokens(images));                                  // [B, Nv, H]
    Tensor l = m.textEmbeds(IDS, MASK);                                                 // [B, T, H]
    SkipConnectedFusion.Output f = m.fuse(l, MASK, v, MPlug.imageMask(v));
    Tensor[] states = MPlug.questionStates(f, MASK);                                    // [B, Nv + T, H]
    Tensor logits = m.decoder().forward(IDS, MASK, states[0], states[1]);               // [B, T, V]
    Tensor weights = torch.linspace(Tensors.scalar(-1), Tensors.scalar(1), logits.numel()).view(logits.sizes());         // a non-uniform upstream
    return m.itmLogits(f.text()).pow(Tensors.scalar(2)).sum().add(logits.mul(weights).sum());
  }

  private record Run(double loss, Map<String, Tensor> grads) {}

  private static Run run(MPlug m, Tensor images, Set<Stack> stacks) {
    ActivationCheckpoint.use(stacks);
    m.zero_grad(true);
    TorchRuntime.seed(2024);
    Tensor loss = loss(m, images);
    if (!stacks.isEmpty()) assertTrue(ActivationCheckpoint.pendingBackwards() > 0, "checkpointed layers ran");
    loss.backward();
    assertEquals(0, ActivationCheckpoint.pendingBackwards(), "every recomputation ran and released its state");
    Map<String, Tensor> grads = new LinkedHashMap<>();
    m.namedParameters().forEach((name, p) -> {
      if (p.grad().defined()) grads.put(name, p.grad().clone());
    });
    return new Run(loss.item_double(), grads);
  }

  private static void assertSameGradients(Run plain, Run checkpointed, String what) {
    assertEquals(plain.loss(), checkpointed.loss(), Math.abs(plain.loss()) * REL_TOL, what + ": loss");
    assertEquals(plain.grads().keySet(), checkpointed.grads().keySet(), what + ": parameters with a gradient");
    double largest = plain.grads().values().stream().mapToDouble(g -> g.abs().max().item_double()).max().orElse(0);
    for (var e : plain.grads().entrySet()) {
      Tensor expected = e.getValue();
      // a key bias shifts all scores of a query row equally, which softmax ignores: its gradient is 0 in exact
      // arithmetic and rounding noise here, so it is held to the largest gradient's scale
      double scale = e.getKey().endsWith("key.bias") ? largest : Math.max(expected.abs().max().item_double(), 1e-30);
      double rel = maxAbsDiff(expected, checkpointed.grads().get(e.getKey())) / scale;
      assertTrue(rel <= REL_TOL, what + ": " + e.getKey() + " max |diff| / max |plain| = " + rel);
    }
  }

  private static void compareOn(FusedAttention.Mode mode) {
    TorchRuntime.setThreads(1);
    FusedAttention.use(mode);
    TorchRuntime.seed(5);
    MPlug m = new MPlug(MPlugConfig.tiny());
    m.train(true);
    try (TensorScope _ = TensorScope.open()) {
      Tensor images = torch.randn(2, 3, 32, 32);
      Run plain = run(m, images, Set.of());
      assertTrue(plain.grads().size() > 100, "gradients reach the whole model: " + plain.grads().size());
      Run again = run(m, images, Set.of());
      assertEquals(plain.loss(), again.loss(), 0.0, "same seed, same dropout masks");
      TorchRuntime.seed(2025);
      assertFalse(loss(m, images).item_double() == plain.loss(), "another seed draws other dropout masks");

      assertSameGradients(plain, run(m, images, EnumSet.allOf(Stack.class)), mode + ", all stacks");
      if (mode == FusedAttention.Mode.COMPOSITE) {   // one stack at a time: the others' plain graphs around it
        for (Stack s : Stack.values()) assertSameGradients(plain, run(m, images, EnumSet.of(s)), mode + ", " + s);
      }
    }
  }

  @Test
  void gradientsEqualThePlainPathWithDropoutOn() {
    compareOn(FusedAttention.Mode.COMPOSITE);
  }

  @Test
  void gradientsEqualThePlainPathOnTheFusedOps() {
    long before = FusedAttention.calls();
    compareOn(FusedAttention.Mode.FUSED);
    assertTrue(FusedAttention.calls() > before, "the fused path ran");
  }

  @Test
  void withoutGradLayersRunAsUsual() {
    ActivationCheckpoint.use(EnumSet.allOf(Stack.class));
    MPlug m = new MPlug(MPlugConfig.tiny());
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      m.textEmbeds(IDS, MASK);
      assertEquals(0, ActivationCheckpoint.pendingBackwards(), "nothing is kept for a backward that cannot come");
    }
  }

  @Test
  void configValuesAreParsedOrRejectedByKey() {
    assertEquals(EnumSet.noneOf(Stack.class), ActivationCheckpoint.parse("none", "k"));
    assertEquals(EnumSet.allOf(Stack.class), ActivationCheckpoint.parse("all", "k"));
    assertEquals(EnumSet.of(Stack.VISION, Stack.FUSION), ActivationCheckpoint.parse("fusion, vit", "k"));
    assertEquals("vit,fusion", ActivationCheckpoint.label(EnumSet.of(Stack.FUSION, Stack.VISION)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainerConfig.builder(1).activationCheckpointing("vit,bert").build());
    assertTrue(e.getMessage().startsWith("activation_checkpointing: expected none, all or"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  /** The tiny model's ITM and decoder loss as a training task. */
  private static final class TinyTask implements TrainingTask<Tensor> {
    private final MPlug model;

    TinyTask() {
      TorchRuntime.seed(11);
      model = new MPlug(MPlugConfig.tiny());
      model.train(true);
    }

    @Override
    public Map<String, Tensor> parameters() {
      return model.namedParameters();
    }

    @Override
    public Map<String, Tensor> losses(Tensor images, long step) {
      return Map.of("tiny", loss(model, images).div(Tensors.scalar(1000)));
    }

    @Override
    public int batchSize(Tensor images) {
      return (int) images.size(0);
    }

    @Override
    public String configText() {
      return "tiny";
    }
  }

  /** Image batches that are a function of their position. */
  private static final class Images implements Batches<Tensor> {
    private int offset;

    @Override
    public Tensor next() {
      try (TensorScope scope = TensorScope.open()) {
        torch.manual_seed(100 + offset++);
        return scope.keep(torch.randn(2, 3, 32, 32));
      }
    }

    @Override
    public LoaderPosition position() {
      return new LoaderPosition(0, offset);
    }

    @Override
    public void seek(LoaderPosition p) {
      offset = p.offset();
    }
  }

  private List<Double> train(String checkpointing) {
    TorchRuntime.setThreads(1);
    TrainerConfig config = TrainerConfig.builder(3).warmupSteps(0).lr(1e-3).logEvery(1).checkpointEvery(0)
        .keepLast(1).activationCheckpointing(checkpointing).build();
    Path dir = tmp.resolve(checkpointing);
    try (TinyTask task = new TinyTask();
        Trainer<Tensor> t = new Trainer<>(config, task, new Images(), new CheckpointStore(dir, 1), List.of(),
            new Progress(new PrintStream(new ByteArrayOutputStream()), false, 3, 1), true)) {
      TorchRuntime.seed(3);
      return t.run(3).losses();
    }
  }

  @Test
  void trainerStepsWithCheckpointingRepeatThePlainLosses() {
    List<Double> plain = train("none");
    List<Double> checkpointed = train("all");
    assertEquals(EnumSet.allOf(Stack.class), ActivationCheckpoint.current(), "the trainer set the switch");
    assertEquals(3, checkpointed.size());
    for (int i = 0; i < plain.size(); i++) {
      assertEquals(plain.get(i), checkpointed.get(i), Math.abs(plain.get(i)) * REL_TOL, "step " + (i + 1));
    }
  }
}
