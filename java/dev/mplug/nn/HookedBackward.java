package dev.mplug.nn;

import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.VoidTensorHook;

/**
 * The backward of a raw native kernel (one autograd cannot see) wired into libtorch's autograd with tensor hooks, since
 * no {@code torch::autograd::Function} can be written from Java. {@link FusedAttention}, {@link ResidualLayerNorm} and
 * {@link ActivationCheckpoint} (whose "kernel" is the layer's recomputation) use it.
 *
 * <p>Each output is the kernel's result plus a zero that depends on every input requiring grad (the sum of an empty
 * slice of it), which puts the inputs below the outputs in the graph at the cost of one small add. Inputs are seen
 * through fresh views used by nothing else, so their hooks belong to this graph alone (a hook on a leaf would stay on
 * it for every later graph). A hook on each output records its incoming gradient; the first hook on an input view to
 * fire (all output hooks have fired by then, the inputs being upstream of every output) runs the kernel's backward,
 * and each view's hook replaces the zero that reached it by that input's gradient. One backward per forward:
 * retaining the graph for a second backward is not supported (the state is released after the first), and a graph
 * dropped without any backward keeps its saved tensors until the process ends ({@link #pending} counts them).
 *
 * <pre>{@code
 * HookedBackward link = HookedBackward.of(MyOp.class, inputs);   // null: nothing requires grad
 * if (link == null) return outputs;
 * Tensor savedX = link.save(x);
 * return link.join(outputs, upstream -> gradientsOfEveryInput(savedX, upstream));
 * }</pre>
 */
final class HookedBackward {
  /**
   * The kernel's backward: from the outputs' upstream gradients (contiguous, null for an output that got none), the
   * gradient of every input, in the order and shapes of the inputs (entries for inputs without grad may be null).
   */
  interface Gradients {
    List<Tensor> of(Tensor[] upstream);
  }

  /** Forwards awaiting their backward: keeps the hooks (native callbacks) and saved tensors reachable. */
  private static final Set<HookedBackward> PENDING = Collections.synchronizedSet(Collections.newSetFromMap(
      new IdentityHashMap<>()));

  private final Class<?> op;
  private final List<Tensor> views;                    // per input: its fresh view, or null without grad
  private final List<Pointer> owned = new ArrayList<>();   // saved tensors, hooks, results: released at the end
  private Tensor[] upstream;
  private Gradients gradients;
  private List<Tensor> computed;
  private int undelivered;

  private HookedBackward(Class<?> op, List<Tensor> views) {
    this.op = op;
    this.views = views;
  }

  /**
   * The link of one forward of {@code op} to its {@code inputs} (null entries allowed), or null when no input requires
   * grad (or grad mode is off): then the outputs are handed on as they are.
   */
  static HookedBackward of(Class<?> op, List<Tensor> inputs) {
    List<Tensor> views = new ArrayList<>();
    boolean any = false;
    for (Tensor x : inputs) {
      boolean grad = x != null && GradMode.is_enabled() && x.requires_grad();
      views.add(grad ? x.view_as(x) : null);
      any |= grad;
    }
    return any ? new HookedBackward(op, views) : null;
  }

  /** Forwards of {@code op} whose backward has not run yet (graphs built but not yet backpropagated). */
  static int pending(Class<?> op) {
    synchronized (PENDING) {
      return (int) PENDING.stream().filter(b -> b.op == op).count();
    }
  }

  /** A new handle to {@code t} (detached), kept outside every scope until the backward has run. */
  Tensor save(Tensor t) {
    return t == null ? null : keep(Handles.own(t.detach()));
  }

  /**
   * Joins each output to the inputs and hooks the gradients: returns the joined outputs (in the caller's scope),
   * which the caller hands on instead of {@code outputs}.
   */
  List<Tensor> join(List<Tensor> outputs, Gradients backward) {
    this.gradients = backward;
    this.upstream = new Tensor[outputs.size()];
    Tensor zero = null;   // 0, depending on every input that requires grad
    for (Tensor view : views) {
      if (view == null) continue;
      Tensor none = view.narrow(view.dim() - 1, 0, 0).sum();
      zero = zero == null ? none : zero.add(none);
    }
    List<Tensor> joined = new ArrayList<>();
    for (int s = 0; s < outputs.size(); s++) {
      Tensor y = outputs.get(s).add(zero);
      captureGradientOf(y, s);
      joined.add(y);
    }
    for (int i = 0; i < views.size(); i++) {
      if (views.get(i) != null) deliverTo(views.get(i), i);
    }
    PENDING.add(this);
    return joined;
  }

  private <P extends Pointer> P keep(P p) {
    owned.add(p);
    return p;
  }

  private void captureGradientOf(Tensor y, int output) {
    VoidTensorHook hook = new VoidTensorHook() {
      @Override
      public void call(TensorBase grad) {
        upstream[output] = keep(Handles.own(new Tensor(grad).contiguous()));
      }
    };
    y.register_hook(keep(Handles.own(hook)));   // a native callback: out of the scope, or closing it would free it
  }

  /** Hooks {@code view} (the fresh view of input {@code index}) to receive that input's gradient. */
  private void deliverTo(Tensor view, int index) {
    undelivered++;
    TensorTensorHook hook = new TensorTensorHook() {
      private Tensor result;   // held until the next call or collection: libtorch copies it after call returns

      @Override
      public TensorBase call(TensorBase ignored) {
        try (TensorScope scope = TensorScope.open()) {
          if (computed == null) {
            computed = new ArrayList<>();
            for (Tensor g : gradients.of(upstream)) computed.add(g == null ? null : keep(Handles.own(g)));
          }
          result = Handles.own(new Tensor(computed.get(index)));   // what reached the view is the join's zero
          if (--undelivered == 0) release();
          return result;
        }
      }
    };
    view.register_hook(keep(Handles.own(hook)));
  }

  /** Frees the saved tensors and gradients; the hooks go with this object once it leaves {@link #PENDING}. */
  private void release() {
    for (Pointer p : owned) {
      if (p instanceof Tensor t) Handles.release(t);
    }
    PENDING.remove(this);
  }
}
