package dev.mplug.nn;

import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.EmbeddingOptions;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LayerNormOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LinearOptions;
import org.bytedeco.pytorch.LongVector;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ModuleListImpl;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A libtorch {@link Module} written in Java, with typed helpers that register children and parameters under the
 * names {@code named_parameters()} reports (the official checkpoint names, see the parameter-name contract).
 *
 * <p>Modules live as long as the model, not as long as a step: everything created here is taken out of any open
 * {@code TensorScope}, so a model may be built inside one. New weights start as BERT initialises them (normal with
 * std 0.02, zero biases, LayerNorm 1/0); real weights come from a checkpoint.
 */
public abstract class ModuleBase extends Module {
  /** Initial weight std of linear and embedding weights (BERT's initializer_range). */
  public static final double INIT_STD = 0.02;

  /**
   * Strong references from every parent to the Java objects of the modules registered on it. A module created from
   * Java is a JavaCPP peer whose C++ virtual calls (train/eval, clone ...) call back into that Java object; if only
   * the C++ side held it, the garbage collector could drop it and a later {@code eval()} would fail. Weak keys: a
   * model and its tree are collectable once the model itself is unreachable.
   */
  private static final Map<Module, List<Module>> REGISTERED =
      Collections.synchronizedMap(new WeakHashMap<>());

  private static <M extends Module> M registered(Module parent, M module) {
    REGISTERED.computeIfAbsent(parent, k -> new ArrayList<>()).add(module);
    return module;
  }

  protected ModuleBase() {
    super();
    TorchRuntime.load();
    unscoped(this);
  }

  /** A plain named container (e.g. {@code encoder} around {@code layer}), registered on {@code parent}. */
  public static Module container(Module parent, String name) {
    Module m = registered(parent, unscoped(new Module()));
    return registered(parent, parent.register_module(name, m));
  }

  /** A {@code ModuleList}: children registered on it are named {@code name.0}, {@code name.1}, ... */
  public static ModuleListImpl list(Module parent, String name) {
    ModuleListImpl l = registered(parent, unscoped(new ModuleListImpl()));
    return registered(parent, parent.register_module(name, l));
  }

  public static <M extends Module> M child(Module parent, String name, M module) {
    return registered(parent, parent.register_module(name, registered(parent, unscoped(module))));
  }

  /** Linear {@code in -> out} ({@code y = x W^T + b}, W [out, in]). */
  public static LinearImpl linear(Module parent, String name, long in, long out, boolean bias) {
    LinearOptions options = new LinearOptions(in, out);
    options.bias().put(bias);
    LinearImpl linear = registered(parent, parent.register_module(name, registered(parent, unscoped(new LinearImpl(options)))));
    try (NoGradGuard _ = new NoGradGuard()) {
      linear.weight().normal_(0.0, INIT_STD, new GeneratorOptional());
      if (bias) linear.bias().zero_();
    }
    return linear;
  }

  /** LayerNorm over the last dimension with the given epsilon (CLIP 1e-5, BERT 1e-12). */
  public static LayerNormImpl layerNorm(Module parent, String name, long dim, double eps) {
    LayerNormOptions options = new LayerNormOptions(new LongVector(new long[] {dim}));
    options.eps().put(eps);
    return registered(parent, parent.register_module(name, registered(parent, unscoped(new LayerNormImpl(options)))));
  }

  public static EmbeddingImpl embedding(Module parent, String name, long count, long dim) {
    EmbeddingImpl e = registered(parent,
        parent.register_module(name, registered(parent, unscoped(new EmbeddingImpl(new EmbeddingOptions(count, dim))))));
    try (NoGradGuard _ = new NoGradGuard()) {
      e.weight().normal_(0.0, INIT_STD, new GeneratorOptional());
    }
    return e;
  }

  /**
   * Registers {@code initial} as a trainable parameter named {@code name}; returns a handle sharing its storage
   * (a copy of the handle: the one libtorch returns points into the module's parameter table, which moves when the
   * table grows).
   */
  public static Tensor parameter(Module parent, String name, Tensor initial) {
    return unscoped(new Tensor(parent.register_parameter(name, initial, true)));
  }

  /** Dropout with probability {@code p} while the module trains; the identity in eval mode. */
  protected Tensor dropout(Tensor x, double p) {
    return activeDropout(p) > 0 ? torch.dropout(x, p, true) : x;
  }

  /** {@code p} while the module trains, 0 in eval mode: the dropout probability to hand to a fused op. */
  protected double activeDropout(double p) {
    return is_training() ? p : 0.0;
  }

  /**
   * Fails with a clear message when {@code x} does not have the expected shape; {@code -1} in {@code expected}
   * accepts any size.
   */
  public static void requireShape(Tensor x, String who, long... expected) {
    long[] got = Tensors.shape(x);
    boolean ok = got.length == expected.length;
    for (int i = 0; ok && i < got.length; i++) ok = expected[i] < 0 || expected[i] == got[i];
    if (!ok) {
      StringBuilder want = new StringBuilder("[");
      for (int i = 0; i < expected.length; i++) {
        want.append(i > 0 ? ", " : "").append(expected[i] < 0 ? "*" : Long.toString(expected[i]));
      }
      throw new IllegalArgumentException(who + ": expected a tensor of shape " + want + "], got " + Arrays.toString(got));
    }
  }

  static <P extends Pointer> P unscoped(P p) {
    return Handles.own(p);
  }
}
