package dev.mplug.nn;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Multi-head attention of query SEGMENTS over key/value segments, fused in the native extension's CPU kernel
 * ({@code mplug_joint_attention_forward/_backward}): each list is attended as if concatenated (segment 0 first), with
 * an online softmax, without building the concatenation. The connected-attention layer's joint attention is queries
 * [V; L] over keys/values [V; L] with the key mask [image mask; text mask]; one segment each is plain attention.
 *
 * <p>Autograd: the kernel is raw, so {@link HookedBackward} wires its backward into the graph with tensor hooks (one
 * backward per forward; {@link #pendingBackwards} counts graphs built but not yet backpropagated).
 *
 * <p>Precision: the kernel reads and writes float32 or bfloat16 tensors (under bf16 autocast the projections hand it
 * bfloat16 q, k and v) and computes in float32; each output has its queries' type, as the composite path's has under
 * autocast, and the row log-sum-exp kept for backward is float32.
 *
 * <p>{@link Mode} is the process-wide switch between this path and the composite reference (op by op over the
 * concatenated streams); {@link #enabledFor} says whether the fused path applies to a tensor: float32 or bfloat16 on
 * the CPU, with or without autocast.
 */
public final class FusedAttention {
  /** Which implementation the fusion layers use for their attention. */
  public enum Mode {
    /**
     * The default: the fused kernel where it was measured faster on this project's CPUs, the composite path elsewhere.
     * That is bfloat16 on the CPU (a bf16 tensor, or float32 under CPU bf16 autocast): the fused attention core is
     * 9-14x faster there and a demo pretraining step 1.26x (README "The native extension"). float32 keeps the composite
     * path: level end to end (GEMM-bound), and its libtorch dropout masks are the ones the shipped fp32 recipes and
     * learning tests were tuned on. CUDA keeps the composite path (ATen's SDPA is 2x faster than the CUDA kernel).
     */
    AUTO,
    /**
     * The native fused kernel wherever it applies (float32 or bfloat16 CPU tensors; elsewhere the composite path
     * runs). Faster than the composite path here for the attention core (fp32: 1.6x forward, level forward +
     * backward; bf16: 9-14x), level with it for whole fp32 fusion layers (their time is the GEMMs), 4% slower at fp32
     * batch-1 inference (README "The native extension").
     */
    FUSED,
    /**
     * The reference: concatenated streams, then the attention core as {@link AttentionCore} computes it (op by op;
     * libtorch's dropout masks where the fused path draws its own from a seeded hash).
     */
    COMPOSITE;

    /** Parses a config / CLI value: {@code auto}, {@code fused} or {@code composite}. */
    public static Mode parse(String value, String key) {
      return switch (value) {
        case "auto" -> AUTO;
        case "fused" -> FUSED;
        case "composite" -> COMPOSITE;
        default -> throw new IllegalArgumentException(key + ": expected auto, fused or composite, got '" + value + "'");
      };
    }

    /** The config / CLI spelling. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static volatile Mode mode = Mode.AUTO;
  private static final AtomicLong CALLS = new AtomicLong();

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
    if (!x.device().is_cpu()) return false;
    // JavaCPP enums from native code: compare codes, not identity
    int type = x.scalar_type().value;
    boolean bf16 = type == torch.ScalarType.BFloat16.value
        || (type == torch.ScalarType.Float.value && Autocast.active()
            && torch.get_autocast_dtype(torch.DeviceType.CPU).value == torch.ScalarType.BFloat16.value);
    return switch (mode) {
      case AUTO -> bf16;
      case FUSED -> type == torch.ScalarType.Float.value || type == torch.ScalarType.BFloat16.value;
      case COMPOSITE -> false;
    };
  }

  /** How many fused forwards have run in this process: lets tests and benchmarks confirm the path taken. */
  public static long calls() {
    return CALLS.get();
  }

  /** Forwards whose backward has not run yet (graphs built but not yet backpropagated). */
  public static int pendingBackwards() {
    return HookedBackward.pending(FusedAttention.class);
  }

  /**
   * @param queries per query segment [B, H, Tq_s, d] (e.g. the head-split view of a [B, Tq_s, H*d] projection),
   *     float32 or bfloat16 (as keys and values)
   * @param keys per key segment [B, H, Tk_s, d]
   * @param values per key segment [B, H, Tk_s, dv]
   * @param keyMasks per key segment null or an additive key mask broadcastable to [B, 1, 1, Tk_s]; no gradient
   * @param scale usually 1/sqrt(d)
   * @param dropoutP dropout on the attention probabilities, in [0, 1) (0 in evaluation); the draw's seed comes from
   *     libtorch's default generator, so a manual seed reproduces it
   * @return per query segment [B, Tq_s, H*dv], of that segment's queries' type
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
      List<Tensor> lse = new ArrayList<>();     // [B, H, Tq_s], float32 whatever the data's type
      for (Tensor q : queries) {
        long tq = q.size(2);
        Tensor out = q.new_empty(b, tq, h * dv);
        outs.add(out);
        heads.add(out.view(b, tq, h, dv).transpose(1, 2));
        lse.add(torch.empty(b, h, tq));
      }
      long seed = dropoutP > 0 ? drawSeed() : 0;
      int threads = torch.get_num_threads();
      NativeOps.jointAttentionForward(queries, keys, values, masks, scale, dropoutP, seed, threads, heads, lse);
      CALLS.incrementAndGet();

      List<Tensor> inputs = new ArrayList<>(queries);   // q, k, v: the order of the gradients handed back
      inputs.addAll(keys);
      inputs.addAll(values);
      HookedBackward link = HookedBackward.of(FusedAttention.class, inputs);
      if (link == null) {
        for (Tensor out : outs) scope.keep(out);
        return outs;
      }
      List<Tensor> q = saved(link, queries), k = saved(link, keys), v = saved(link, values);
      List<Tensor> savedMasks = saved(link, masks), savedOut = saved(link, heads), savedLse = saved(link, lse);
      List<Tensor> results = link.join(outs, upstream -> {
        List<Tensor> gradOut = new ArrayList<>();
        for (int s = 0; s < savedOut.size(); s++) {
          Tensor o = savedOut.get(s);                                                    // [B, H, Tq_s, dv]
          gradOut.add(upstream[s] != null ? upstream[s].view(o.size(0), o.size(2), o.size(1), o.size(3))
              .transpose(1, 2) : torch.zeros_like(o));
        }
        List<Tensor> gradQ = emptyLike(q), gradK = emptyLike(k), gradV = emptyLike(v);
        NativeOps.jointAttentionBackward(q, k, v, savedMasks, scale, dropoutP, seed, threads, savedOut, savedLse,
            gradOut, gradQ, gradK, gradV);
        List<Tensor> grads = new ArrayList<>(gradQ);
        grads.addAll(gradK);
        grads.addAll(gradV);
        return grads;
      });
      for (Tensor y : results) scope.keep(y);
      return results;
    }
  }

  private static List<Tensor> saved(HookedBackward link, List<Tensor> tensors) {
    List<Tensor> r = new ArrayList<>();
    for (Tensor t : tensors) r.add(link.save(t));
    return r;
  }

  /** Fresh [B, H, T, w] views over [B, T, H, w] storage: the layout the projections' gradients have. */
  private static List<Tensor> emptyLike(List<Tensor> xs) {
    List<Tensor> r = new ArrayList<>();
    for (Tensor x : xs) r.add(x.new_empty(x.size(0), x.size(2), x.size(1), x.size(3)).transpose(1, 2));
    return r;
  }

  /** A 62-bit seed from libtorch's default CPU generator (a manual seed reproduces it); the fused ops' dropout seed. */
  static long drawSeed() {
    try (TensorScope scope = TensorScope.open()) {
      Tensor draws = torch.randint(1L << 31, new long[] {2});
      return draws.get(0).item_long() << 31 | draws.get(1).item_long();
    }
  }
}
