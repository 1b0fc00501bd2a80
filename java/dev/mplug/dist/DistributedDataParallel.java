package dev.mplug.dist;

import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.BoolVector;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Reducer;
import org.bytedeco.pytorch.SizeTStringMap;
import org.bytedeco.pytorch.SizeTVector;
import org.bytedeco.pytorch.SizeTVectorVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * Data-parallel training on libtorch's c10d {@code Reducer}, the engine under PyTorch's DistributedDataParallel: the
 * reducer hooks every parameter's gradient accumulator, and as soon as the gradients of a bucket are complete during
 * backward it all-reduces that bucket (averaging over the ranks) while backward goes on; at the end each parameter's
 * {@code grad} is a view of its bucket (no extra copy). At start the ranks check that they hold the same parameters
 * (names, shapes, dtypes) and take rank 0's values of the parameters and of the extra state (e.g. momentum encoders,
 * queues), so every rank starts identical.
 *
 * <p>Per micro-batch: {@link #beforeForward()}, the forward, {@link #beforeBackward(boolean, Tensor)}, backward. A
 * micro-step of gradient accumulation passes {@code synchronize = false}: the hooks then do nothing and the gradients
 * accumulate locally; the last micro-step synchronizes the accumulated sum, as Python's {@code no_sync()} does.
 *
 * <p>Buckets: parameters in reverse registration order (roughly the order backward produces their gradients), a
 * first small bucket so communication starts early, then buckets of up to {@code bucketBytes}.
 */
public final class DistributedDataParallel {
  /** PyTorch's defaults: 25 MiB buckets, a 1 MiB first bucket. */
  public static final long DEFAULT_BUCKET_BYTES = 25L << 20;
  private static final long FIRST_BUCKET_BYTES = 1L << 20;

  private final Reducer reducer;
  private final boolean findUnusedParameters;
  private final int buckets;

  /**
   * @param parameters the trainable parameters by name (the same names, order and shapes on every rank)
   * @param state further tensors every rank must start with rank 0's copy of (buffers, momentum twins, queues)
   * @param findUnusedParameters let parameters that a step does not use be marked ready (the losses' graph is walked
   *     before backward); needed by tasks whose forward skips parts of the model
   */
  public DistributedDataParallel(DistributedGroup group, Map<String, Tensor> parameters, Map<String, Tensor> state,
      long bucketBytes, boolean findUnusedParameters) {
    if (!group.distributed()) throw new IllegalArgumentException("data parallel needs a group of more than one rank");
    if (bucketBytes < 1) throw new IllegalArgumentException("bucket size must be >= 1 byte, got " + bucketBytes);
    group.requireSame("parameters (name shape dtype)", signature(parameters) + "--- state\n" + signature(state));
    List<Tensor> all = new ArrayList<>();
    try (NoGradGuard guard = new NoGradGuard()) {
      parameters.values().forEach(p -> all.add(p.detach()));
      state.values().forEach(t -> all.add(t.detach()));
      group.broadcast(all, 0);
    }
    this.findUnusedParameters = findUnusedParameters;
    List<Tensor> params = new ArrayList<>(parameters.values());
    SizeTVectorVector assignment = bucketsBySize(params, bucketBytes);
    this.buckets = (int) assignment.size();
    SizeTStringMap names = new SizeTStringMap();
    int i = 0;
    for (String n : parameters.keySet()) names.put(i++, n);
    boolean[] sparse = new boolean[params.size()];
    this.reducer = new Reducer(new TensorVector(params.toArray(Tensor[]::new)), assignment, group.nativeGroup(),
        new BoolVector(sparse), bucketBytes, findUnusedParameters, true, names, FIRST_BUCKET_BYTES, false, false);
  }

  /** "name [shape] dtype" per line, in order. */
  private static String signature(Map<String, Tensor> tensors) {
    StringBuilder s = new StringBuilder();
    tensors.forEach((n, t) -> s.append(n).append(' ').append(Tensors.shapeString(t)).append(' ')
        .append(t.scalar_type()).append('\n'));
    return s.toString();
  }

  /**
   * Indices of {@code params} per bucket: reverse order, dtype-homogeneous, the first bucket up to 1 MiB, the others
   * up to {@code cap} bytes (a parameter larger than the cap gets a bucket of its own).
   */
  static SizeTVectorVector bucketsBySize(List<Tensor> params, long cap) {
    SizeTVectorVector out = new SizeTVectorVector();
    List<Long> current = new ArrayList<>();
    long bytes = 0;
    int dtype = -1;
    for (int i = params.size() - 1; i >= 0; i--) {
      Tensor p = params.get(i);
      long size = p.numel() * p.element_size();
      long limit = out.size() == 0 ? Math.min(cap, FIRST_BUCKET_BYTES) : cap;
      boolean sameType = dtype < 0 || dtype == p.scalar_type().value;   // JavaCPP enums: compare codes
      if (!current.isEmpty() && (bytes + size > limit || !sameType)) {
        out.push_back(sizeTVector(current));
        current.clear();
        bytes = 0;
      }
      current.add((long) i);
      bytes += size;
      dtype = p.scalar_type().value;
    }
    if (!current.isEmpty()) out.push_back(sizeTVector(current));
    return out;
  }

  private static SizeTVector sizeTVector(List<Long> indices) {
    SizeTVector v = new SizeTVector(indices.size());
    for (int i = 0; i < indices.size(); i++) v.put(i, indices.get(i));
    return v;
  }

  /** Number of communication buckets. */
  public int buckets() {
    return buckets;
  }

  /**
   * Before each micro-batch's forward; after the first synchronized backward the reducer rebuilds its buckets in
   * the order the gradients actually arrived (rank 0's order, broadcast), as Python DDP does.
   */
  public void beforeForward() {
    reducer.rebuild_buckets();
    reducer.prepare_for_forward();
  }

  /**
   * Before backward of a micro-batch: {@code synchronize} arms the all-reduce (the last micro-step of an optimizer
   * step); otherwise the gradients accumulate locally. {@code loss} is the graph walked for unused parameters.
   */
  public void beforeBackward(boolean synchronize, Tensor loss) {
    if (!synchronize) return;
    reducer.prepare_for_backward(findUnusedParameters ? new TensorVector(loss) : new TensorVector());
  }
}
