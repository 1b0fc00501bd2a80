package dev.mplug.nn;

import dev.mplug.torch.Autocast;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Activation checkpointing per layer (Python's {@code torch.utils.checkpoint}, which JavaCPP does not map): the layer
 * runs without building a graph, only its inputs are kept, and backward runs it again with grad and backpropagates
 * the upstream gradient through that recomputation. A stack of n layers then holds n layer inputs instead of every
 * intermediate of every layer, for one extra forward per step.
 *
 * <p>The autograd wiring is the fused ops' ({@link HookedBackward}): the graph-free outputs are joined to the inputs,
 * and when the outputs' gradients have arrived the layer is recomputed (grad mode on, the forward's autocast region
 * and generator states restored, so dropout draws the same masks), a nested backward runs from those gradients (the
 * layer's parameters accumulate their gradients there, as with PyTorch's reentrant checkpoint) and each input gets
 * its gradient. One backward per forward.
 *
 * <p>Which stacks are checkpointed is a process-wide switch ({@link #use}), set by the trainer from
 * {@code train.activation_checkpointing}; without grad (evaluation, the momentum model) layers run as usual.
 */
public final class ActivationCheckpoint {
  /** The layer stacks that can be checkpointed, with their config names. */
  public enum Stack {
    VISION("vit"), TEXT_ENCODER("text_encoder"), FUSION("fusion"), DECODER("decoder");

    private final String label;

    Stack(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private static volatile Set<Stack> checkpointed = EnumSet.noneOf(Stack.class);

  private ActivationCheckpoint() {}

  /**
   * Parses a config / CLI value: {@code none}, {@code all}, or a comma-separated list of {@code vit},
   * {@code text_encoder}, {@code fusion}, {@code decoder}; anything else fails naming {@code key}.
   */
  public static Set<Stack> parse(String value, String key) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    if (v.equals("none")) return EnumSet.noneOf(Stack.class);
    if (v.equals("all")) return EnumSet.allOf(Stack.class);
    Set<Stack> stacks = EnumSet.noneOf(Stack.class);
    for (String part : v.split(",")) {
      Stack s = Arrays.stream(Stack.values()).filter(x -> x.label.equals(part.strip())).findFirst()
          .orElseThrow(() -> new IllegalArgumentException(key + ": expected none, all or a comma-separated list of "
              + labels() + ", got '" + value + "'"));
      stacks.add(s);
    }
    return stacks;
  }

  /** The config spelling of {@code stacks}: none, all, or the comma-separated labels in stack order. */
  public static String label(Set<Stack> stacks) {
    if (stacks.isEmpty()) return "none";
    if (stacks.size() == Stack.values().length) return "all";
    return stacks.stream().sorted().map(Stack::label).collect(Collectors.joining(","));
  }

  private static String labels() {
    return Arrays.stream(Stack.values()).map(Stack::label).collect(Collectors.joining(", "));
  }

  /** Checkpoints {@code stacks} in all later forwards (the others run as usual); returns the previous set. */
  public static Set<Stack> use(Set<Stack> stacks) {
    Set<Stack> previous = checkpointed;
    checkpointed = stacks.isEmpty() ? EnumSet.noneOf(Stack.class) : EnumSet.copyOf(stacks);
    return previous;
  }

  /** The stacks now checkpointed. */
  public static Set<Stack> current() {
    return EnumSet.copyOf(checkpointed.isEmpty() ? EnumSet.noneOf(Stack.class) : checkpointed);
  }

  /** Checkpointed forwards whose backward has not run yet. */
  public static int pendingBackwards() {
    return HookedBackward.pending(ActivationCheckpoint.class);
  }

  /** {@link #run} for a layer with one output. */
  public static Tensor runLayer(Stack stack, Function<List<Tensor>, Tensor> layer, Tensor... inputs) {
    return run(stack, in -> List.of(layer.apply(in)), inputs).getFirst();
  }

  /**
   * Runs {@code layer} on {@code inputs} (null entries allowed, e.g. an absent mask), checkpointed when
   * {@code stack} is and a graph is being built; otherwise simply {@code layer.apply(inputs)}. The layer must be a
   * function of its inputs, its parameters and the default generators only (it runs twice).
   *
   * @return the layer's outputs; when checkpointed, new tensors equal to them whose gradients reach the inputs and
   *     the layer's parameters through the recomputation
   */
  public static List<Tensor> run(Stack stack, Function<List<Tensor>, List<Tensor>> layer, Tensor... inputs) {
    List<Tensor> in = Arrays.asList(inputs);
    if (!checkpointed.contains(stack)) return layer.apply(in);
    HookedBackward link = HookedBackward.of(ActivationCheckpoint.class, in);
    // no graph, or nothing upstream to reach (frozen inputs): the plain graph is the only way parameters get gradients
    if (link == null) return layer.apply(in);
    Recompute recompute = new Recompute(layer, in, link);
    List<Tensor> outs;
    try (NoGradGuard _ = new NoGradGuard()) {
      outs = layer.apply(in);
    }
    // detached: an output may be an input handed through (a co-attention layer's vision stream), whose own graph must
    // not carry the gradient a second time
    List<Tensor> detached = new ArrayList<>();
    for (Tensor y : outs) detached.add(y.detach());
    return link.join(detached, recompute::gradients);
  }

  /**
   * The default generators the layer may draw from: the CPU one, and the inputs' device's when that is not the CPU
   * (handles owned by the caller: they must outlive the forward's scope).
   */
  private static List<Generator> generatorsOf(List<Tensor> inputs) {
    List<Generator> generators = new ArrayList<>(List.of(Handles.own(torch.getDefaultCPUGenerator())));
    for (Tensor x : inputs) {
      if (x != null && !x.device().is_cpu()) {
        generators.add(Handles.own(torch.globalContext().defaultGenerator(x.device())));
        break;
      }
    }
    return generators;
  }

  /** The device type of the first input (the CPU when there is none). */
  private static torch.DeviceType deviceType(List<Tensor> inputs) {
    for (Tensor x : inputs) {
      if (x != null) return x.device().type();
    }
    return torch.DeviceType.CPU;
  }

  /** One checkpointed forward: its inputs, generator states and autocast setting, and how to recompute it. */
  private static final class Recompute {
    private final Function<List<Tensor>, List<Tensor>> layer;
    private final List<Tensor> inputs = new ArrayList<>();   // detached, saved until the backward
    private final List<Boolean> needsGrad = new ArrayList<>();
    private final List<Generator> generators;
    private final List<Tensor> generatorStates = new ArrayList<>();
    private final Autocast.Setting autocast;

    Recompute(Function<List<Tensor>, List<Tensor>> layer, List<Tensor> inputs, HookedBackward link) {
      this.layer = layer;
      for (Tensor x : inputs) {
        this.inputs.add(link.save(x));
        needsGrad.add(x != null && x.requires_grad());
      }
      this.generators = generatorsOf(inputs);
      for (Generator g : generators) generatorStates.add(link.save(g.get_state()));
      this.autocast = Autocast.setting(deviceType(inputs));
    }

    /**
     * The backward: runs the layer again with grad from the saved inputs and states, backpropagates the outputs'
     * gradients through it, and returns each input's gradient (null for inputs without grad).
     */
    List<Tensor> gradients(Tensor[] upstream) {
      List<Tensor> leaves = new ArrayList<>();
      for (int i = 0; i < inputs.size(); i++) {
        Tensor x = inputs.get(i);
        leaves.add(needsGrad.get(i) ? x.detach().requires_grad_(true) : x);
      }
      List<Tensor> outs;
      List<Tensor> now = new ArrayList<>();
      for (Generator g : generators) now.add(g.get_state());
      try (AutoGradMode _ = new AutoGradMode(true)) {
        for (int i = 0; i < generators.size(); i++) generators.get(i).set_state(generatorStates.get(i));
        try (Autocast _ = Autocast.replay(autocast)) {
          outs = layer.apply(leaves);
        } finally {
          for (int i = 0; i < generators.size(); i++) generators.get(i).set_state(now.get(i));
        }
        TensorVector ys = new TensorVector();
        TensorVector gs = new TensorVector();
        for (int i = 0; i < outs.size(); i++) {
          Tensor g = i < upstream.length ? upstream[i] : null;
          if (g != null && outs.get(i).requires_grad()) {
            ys.push_back(outs.get(i));
            gs.push_back(g);
          }
        }
        if (ys.size() > 0) torch.backward(ys, gs, new BoolOptional(false), false, new TensorVector());
      }
      for (Generator g : generators) Handles.release(g);
      List<Tensor> grads = new ArrayList<>();
      for (int i = 0; i < leaves.size(); i++) {
        Tensor leaf = leaves.get(i);
        if (!needsGrad.get(i)) {
          grads.add(null);
          continue;
        }
        Tensor g = leaf.grad();   // a reference into the leaf: a new handle, and zeros where nothing flowed
        grads.add(g.defined() ? new Tensor(g) : torch.zeros_like(leaf));
      }
      return grads;
    }
  }
}
