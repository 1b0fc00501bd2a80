package dev.mplug.nn;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.global.torch;

/**
 * Multi-head attention of query SEGMENTS over key/value segments, fused in the native extension's CPU kernel
 * ({@code mplug_joint_attention_forward/_backward}): each list is attended as if concatenated (segment 0 first), with
 * an online softmax, without building the concatenation. The connected-attention layer's joint attention is queries
 * [V; L] over keys/values [V; L] with the key mask [image mask; text mask]; one segment each is plain attention.
 *
 * <p>Autograd: the kernel is raw (no {@code torch::autograd::Function} can be written from Java), so the gradients are
 * wired with tensor hooks. Each output is the kernel's result plus a zero that depends on every input requiring grad
 * (the sum of an empty slice of it), which puts the inputs below the outputs in the graph at the cost of one small
 * add. Inputs are seen through fresh views used by nothing else, so their hooks belong to this graph alone. A hook on
 * each output records its incoming gradient; the first hook on an input view to fire (all output hooks have fired by
 * then, the inputs being upstream of every output) runs the fused backward, and each view's hook replaces the zero
 * that reached it by that input's gradient. One backward per forward: retaining the graph for a second backward is not
 * supported (the hooks' state is released after the first), and a graph dropped without any backward keeps its
 * saved tensors until the process ends ({@link #pendingBackwards} counts them).
 *
 * <p>{@link Mode} is the process-wide switch between this path and the composite reference (op by op over the
 * concatenated streams); {@link #enabledFor} says whether the fused path applies to a tensor: float32 on the CPU and
 * no autocast (the kernel is fp32 only).
 */
public final class FusedAttention {
  /** Which implementation the fusion layers use for their attention. */
  public enum Mode {
    /**
     * The native fused kernel where it applies (float32 CPU tensors, no autocast; elsewhere the composite path runs).
     * Faster than the composite path here for the attention core, level with it for whole fusion layers (their time
     * is the GEMMs), 4-8% slower at batch-1 inference (README "The native extension").
     */
    FUSED,
    /**
     * The default, and the reference: concatenated streams, then the attention core as {@link AttentionCore}
     * computes it. Default because the fused path is not faster end to end here and its dropout masks (a seeded hash)
     * differ from libtorch's, which changes every training trajectory the shipped recipes and tests were tuned on.
     */
    COMPOSITE;

    /** Parses a config / CLI value: {@code fused} or {@code composite}. */
    public static Mode parse(String value, String key) {
      return switch (value) {
        case "fused" -> FUSED;
        case "composite" -> COMPOSITE;
        default -> throw new IllegalArgumentException(key + ": expected fused or composite, got '" + value + "'");
      };
    }
  }

  private static volatile Mode mode = Mode.COMPOSITE;
  private static final AtomicLong CALLS = new AtomicLong();

  /** The state of forwards awaiting their backward: keeps the hooks (native callbacks) reachable. */
  private static final Set<Backward> PENDING = Collections.synchronizedSet(Collections.newSetFromMap(
      new IdentityHashMap<>()));

  private FusedAttention() {}

  /** Selects the mode for all later calls; returns the previous one. */
  public static Mode use(Mode next) {
    Mode previous = mode;
    mode = next;
    return previous;
  }

  public static Mode current() {
    return mode;
  }

  /** Whether a call with inputs like {@code x} now takes the fused path. */
  public static boolean enabledFor(Tensor x) {
    // JavaCPP enums from native code: compare codes, not identity
    return mode == Mode.FUSED && !Autocast.active() && x.scalar_type().value == torch.ScalarType.Float.value
        && x.device().is_cpu();
  }

  /** How many fused forwards have run in this process: lets tests and benchmarks confirm the path taken. */
  public static long calls() {
    return CALLS.get();
  }

  /** Forwards whose backward has not run yet (graphs built but not yet backpropagated). */
  public static int pendingBackwards() {
    return PENDING.size();
  }

  /**
   * @param queries per query segment [B, H, Tq_s, d] (e.g. the head-split view of a [B, Tq_s, H*d] projection)
   * @param keys per key segment [B, H, Tk_s, d]
   * @param values per key segment [B, H, Tk_s, dv]
   * @param keyMasks per key segment null or an additive key mask broadcastable to [B, 1, 1, Tk_s]; no gradient
   * @param scale usually 1/sqrt(d)
   * @param dropoutP dropout on the attention probabilities, in [0, 1) (0 in evaluation); the draw's seed comes from
   *     libtorch's default generator, so a manual seed reproduces it
   * @return per query segment [B, Tq_s, H*dv]
   */
  public static List<Tensor> apply(List<Tensor> queries, List<Tensor> keys, List<Tensor> values,
      List<Tensor> keyMasks, double scale, double dropoutP) {
    if (keys.size() != values.size() || keyMasks.size() != keys.size()) {
      throw new IllegalArgumentException("fused attention: " + keys.size() + " key, " + values.size() + " value and "
          + keyMasks.size() + " mask segments; they must match");
    }
    if (!(dropoutP >= 0 && dropoutP < 1)) {
      throw new IllegalArgumentException("fused attention: dropout must be in [0, 1); got " + dropoutP);
    }
    try (TensorScope scope = TensorScope.open()) {
      Tensor first = queries.getFirst();
      long b = first.size(0), h = first.size(1), dv = values.getFirst().size(3);
      List<Tensor> masks = new ArrayList<>();
      for (int s = 0; s < keys.size(); s++) {
        Tensor m = keyMasks.get(s);
        long tk = keys.get(s).size(2);
        masks.add(m == null ? null : m.detach().expand(b, 1, 1, tk).reshape(b, tk));   // [B, Tk_s]
      }
      List<Tensor> outs = new ArrayList<>();    // [B, Tq_s, H*dv]
      List<Tensor> heads = new ArrayList<>();   // the same storage as [B, H, Tq_s, dv]
      List<Tensor> lse = new ArrayList<>();     // [B, H, Tq_s]
      for (Tensor q : queries) {
        long tq = q.size(2);
        Tensor out = first.new_empty(b, tq, h * dv);
        outs.add(out);
        heads.add(out.view(b, tq, h, dv).transpose(1, 2));
        lse.add(first.new_empty(b, h, tq));
      }
      long seed = dropoutP > 0 ? drawSeed() : 0;
      int threads = torch.get_num_threads();
      NativeOps.jointAttentionForward(queries, keys, values, masks, scale, dropoutP, seed, threads, heads, lse);
      CALLS.incrementAndGet();

      // Each input that requires grad is seen through a fresh view: the hooks go on the views, so they live in this
      // graph only (a hook on a leaf would stay on the leaf for every later graph) and see only this op's gradient.
      List<List<Tensor>> viewed = new ArrayList<>();
      boolean needsGrad = false;
      for (List<Tensor> list : List.of(queries, keys, values)) {
        List<Tensor> views = new ArrayList<>();
        for (Tensor x : list) {
          boolean grad = GradMode.is_enabled() && x.requires_grad();
          views.add(grad ? x.view_as(x) : null);
          needsGrad |= grad;
        }
        viewed.add(views);
      }
      if (!needsGrad) {
        for (Tensor out : outs) scope.keep(out);
        return outs;
      }
      Tensor zero = null;                       // 0, depending on every input that requires grad
      for (List<Tensor> views : viewed) {
        for (Tensor x : views) {
          if (x == null) continue;
          Tensor none = x.narrow(x.dim() - 1, 0, 0).sum();
          zero = zero == null ? none : zero.add(none);
        }
      }
      Backward backward = new Backward(queries, keys, values, masks, scale, dropoutP, seed, threads, heads, lse);
      List<Tensor> results = new ArrayList<>();
      for (int s = 0; s < outs.size(); s++) {
        Tensor y = outs.get(s).add(zero);       // [B, Tq_s, H*dv], joined to the inputs
        backward.captureGradientOf(y, s);
        results.add(scope.keep(y));
      }
      Role[] roles = {Role.QUERY, Role.KEY, Role.VALUE};
      for (int r = 0; r < roles.length; r++) {
        for (int s = 0; s < viewed.get(r).size(); s++) {
          if (viewed.get(r).get(s) != null) backward.deliverTo(viewed.get(r).get(s), roles[r], s);
        }
      }
      PENDING.add(backward);
      return results;
    }
  }

  /** A 62-bit seed from libtorch's default CPU generator (a manual seed reproduces it); the fused ops' dropout seed. */
  static long drawSeed() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor draws = torch.randint(1L << 31, new long[] {2});
      return draws.get(0).item_long() << 31 | draws.get(1).item_long();
    }
  }

  private enum Role { QUERY, KEY, VALUE }

  /** One forward's saved inputs and hooks, alive until its backward has delivered every input's gradient. */
  private static final class Backward {
    private final List<Tensor> q, k, v, masks, out, lse;
    private final double scale, dropoutP;
    private final long seed;
    private final int threads;
    private final Tensor[] upstream;
    private final List<Pointer> hooks = new ArrayList<>();
    private List<Tensor> gradQ, gradK, gradV;
    private int undelivered;

    Backward(List<Tensor> q, List<Tensor> k, List<Tensor> v, List<Tensor> masks, double scale, double dropoutP,
        long seed, int threads, List<Tensor> out, List<Tensor> lse) {
      this.q = owned(q);
      this.k = owned(k);
      this.v = owned(v);
      this.masks = owned(masks);
      this.out = owned(out);
      this.lse = owned(lse);
      this.scale = scale;
      this.dropoutP = dropoutP;
      this.seed = seed;
      this.threads = threads;
      this.upstream = new Tensor[out.size()];
    }

    /** New handles to the same tensors, outside every scope (released by {@link #release}). */
    private static List<Tensor> owned(List<Tensor> tensors) {
      List<Tensor> copies = new ArrayList<>();
      for (Tensor t : tensors) copies.add(t == null ? null : Handles.own(t.detach()));
      return copies;
    }

    void captureGradientOf(Tensor y, int segment) {
      VoidTensorHook hook = new VoidTensorHook() {
        @Override
        public void call(TensorBase grad) {
          upstream[segment] = Handles.own(new Tensor(grad).contiguous());
        }
      };
      hooks.add(Handles.own(hook));   // a native callback: out of the scope, or closing it would free the callback
      y.register_hook(hook);
    }

    /** Hooks {@code view} (a fresh view of an input, used only by this op) to receive that input's gradient. */
    void deliverTo(Tensor view, Role role, int segment) {
      undelivered++;
      TensorTensorHook hook = new TensorTensorHook() {
        private Tensor result;   // held until the next call or collection: libtorch copies it after call returns

        @Override
        public TensorBase call(TensorBase ignored) {
          try (TensorScope scope = TensorScope.open()) {
            if (gradQ == null) runBackward();
            Tensor own = switch (role) {
              case QUERY -> gradQ.get(segment);
              case KEY -> gradK.get(segment);
              case VALUE -> gradV.get(segment);
            };
            result = Handles.own(new Tensor(own));   // what reached the view is the join's zero
            if (--undelivered == 0) release();
            return result;
          }
        }
      };
      hooks.add(Handles.own(hook));
      view.register_hook(hook);
    }

    private void runBackward() {
      List<Tensor> gradOut = new ArrayList<>();
      for (int s = 0; s < out.size(); s++) {
        Tensor o = out.get(s);
        gradOut.add(upstream[s] != null ? upstream[s].view(o.size(0), o.size(2), o.size(1), o.size(3)).transpose(1, 2)
            : torch.zeros_like(o));                                                       // [B, H, Tq_s, dv]
      }
      gradQ = emptyLike(q);
      gradK = emptyLike(k);
      gradV = emptyLike(v);
      NativeOps.jointAttentionBackward(q, k, v, masks, scale, dropoutP, seed, threads, out, lse, gradOut, gradQ, gradK,
          gradV);
    }

    /**
     * Fresh [B, H, T, w] views over [B, T, H, w] storage (the layout the projections' gradients have), outside every
     * scope (released by {@link #release}).
     */
    private static List<Tensor> emptyLike(List<Tensor> xs) {
      List<Tensor> r = new ArrayList<>();
      for (Tensor x : xs) {
        r.add(Handles.own(x.new_empty(x.size(0), x.size(2), x.size(1), x.size(3))
            .transpose(1, 2)));
      }
      return r;
    }

    private void release() {
      for (List<Tensor> list : Arrays.asList(q, k, v, masks, out, lse, gradQ, gradK, gradV)) {
        for (Tensor t : list) Handles.release(t);
      }
      Handles.release(upstream);
      PENDING.remove(this);
    }
  }
}
