package dev.mplug.dist;

import dev.mplug.profile.Range;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.BoolVector;
import org.bytedeco.pytorch.Logger;
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
 * {@code grad} is a view of its bucket (a gradient that is still a bucket view is reduced in place; one freed by the
 * optimizer since is copied into the bucket once). At start the ranks check that they hold the same parameters
 * (names, shapes, dtypes) and take rank 0's values of the parameters and of the extra state (e.g. momentum encoders,
 * queues), so every rank starts identical.
 *
 * <p>Per micro-batch: {@link #beforeForward(boolean)}, the forward, {@link #backward(Tensor, boolean)}. A micro-step
 * of gradient accumulation passes {@code synchronize = false}: the hooks then do nothing and the gradients accumulate
 * locally; the last micro-step synchronizes the accumulated sum, as Python's {@code no_sync()} does.
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
  private final List<String> names;
  private final int rank;
  private final long timeoutSeconds;

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
    this.rank = group.rank();
    this.timeoutSeconds = group.environment().timeout().toSeconds();
    List<Tensor> params = new ArrayList<>(parameters.values());
    SizeTVectorVector assignment = bucketsBySize(params, bucketBytes);
    this.buckets = (int) assignment.size();
    this.names = List.copyOf(parameters.keySet());
    SizeTStringMap indexNames = new SizeTStringMap();
    for (int i = 0; i < names.size(); i++) indexNames.put(i, names.get(i));
    boolean[] sparse = new boolean[params.size()];
    this.reducer = new Reducer(new TensorVector(params.toArray(Tensor[]::new)), assignment, group.nativeGroup(),
        new BoolVector(sparse), bucketBytes, findUnusedParameters, true, indexNames, FIRST_BUCKET_BYTES, false, false);
    // The reducer reports through a c10d Logger it reaches by weak pointer, and dereferences it without a check when
    // the set of unused parameters changes between steps: it needs one. Both live as long as the process (one
    // wrapper per training run; freeing the reducer while the logger holds it would free it twice).
    this.reducer.retainReference();
    Logger logger = new Logger(reducer);
    logger.retainReference();
    this.reducer.set_logger(logger);
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
   * Before each micro-batch's forward ({@code synchronize}: as for {@link #backward}); after the first
   * synchronized backward the reducer rebuilds its buckets in the order the gradients actually arrived (rank 0's
   * order, broadcast to all), as Python DDP does.
   */
  public void beforeForward(boolean synchronize) {
    unusedParametersExplained(() -> {
      reducer.rebuild_buckets();
      if (synchronize) reducer.prepare_for_forward();
    });
  }

  /**
   * Backward of a micro-batch's {@code loss}: with {@code synchronize} (the last micro-step of an optimizer step) the
   * buckets are all-reduced while it runs and every rank ends with the mean gradient; otherwise the gradients
   * accumulate locally. A rank that died or hangs makes this fail within the group's timeout.
   */
  public void backward(Tensor loss, boolean synchronize) {
    if (synchronize) {
      unusedParametersExplained(() -> reducer.prepare_for_backward(findUnusedParameters ? new TensorVector(loss)
          : new TensorVector()));
    }
    // with synchronize, the buckets are all-reduced as backward produces them: the range spans both
    try (Range r = Range.open(synchronize ? "allreduce.gradients" : "backward.no_sync")) {
      loss.backward();
    } catch (RuntimeException e) {
      if (!synchronize) throw e;
      throw new TorchException("rank " + rank + ": the gradient all-reduce failed, another rank died or is "
          + "unreachable (timeout " + timeoutSeconds + " s): " + DistributedGroup.firstLine(e), e);
    }
  }

  /**
   * The reducer's error for parameters that got no gradient as one line: which parameters, and the config key that
   * lets them be.
   */
  private void unusedParametersExplained(Runnable reducerCall) {
    try {
      reducerCall.run();
    } catch (RuntimeException e) {
      String message = String.valueOf(e.getMessage());
      if (!message.contains("Expected to have finished reduction")) throw e;
      Matcher m = Pattern.compile("did not receive grad for rank \\d+: ([0-9 ]+)").matcher(message);
      List<String> unused = new ArrayList<>();
      if (m.find()) {
        for (String index : m.group(1).strip().split(" +")) unused.add(names.get(Integer.parseInt(index)));
      }
      throw new IllegalArgumentException("the last step gave " + (unused.isEmpty() ? "some parameters"
          : unused.size() + " parameters (" + String.join(", ", unused.subList(0, Math.min(3, unused.size())))
          + (unused.size() > 3 ? ", ..." : "") + ")") + " no gradient (an objective is off or a part of the model "
          + "unused): set train.ddp_find_unused = true", e);
    }
  }
}
