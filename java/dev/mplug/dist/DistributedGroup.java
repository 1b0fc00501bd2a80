package dev.mplug.dist;

import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BackendOptional;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.gloo.Device;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;

/**
 * The ranks of one data-parallel job and the collectives the trainer needs: rendezvous through a {@code TCPStore} at
 * {@code MASTER_ADDR:MASTER_PORT} (rank 0 serves it), a c10d {@code ProcessGroup} with the Gloo backend on CPUs or
 * NCCL on GPUs, and every collective bounded by the environment's timeout, so a dead or unreachable rank ends the run
 * with one line instead of a hang.
 *
 * <p>A single-process group ({@link #single()}) has the same methods and no native group: its collectives return
 * their input, so callers need no second code path.
 *
 * <p>Stores: c10d constructors adopt the Store they are given (one owner each), so the process group and the backend
 * each get a {@code clone()} and this class keeps the original for its own key exchanges. An adopted object must
 * never be freed from Java as well ({@link #adopted}).
 */
public final class DistributedGroup {
  private final DistributedEnvironment env;
  private final Store store;
  private final ProcessGroup group;
  /** Where this class's own small collectives (means, barriers) run: CPU for Gloo, this rank's GPU for NCCL. */
  private final ComputeDevice collectives;
  private int exchanges;

  private DistributedGroup(DistributedEnvironment env, Store store, ProcessGroup group, ComputeDevice collectives) {
    this.env = env;
    this.store = store;
    this.group = group;
    this.collectives = collectives;
  }

  /** One process: rank 0 of 1, collectives are the identity. */
  public static DistributedGroup single() {
    return new DistributedGroup(DistributedEnvironment.single(), null, null, ComputeDevice.CPU);
  }

  /** Joins the job {@code env} describes (or returns {@link #single()} when it is one process). */
  public static DistributedGroup join(DistributedEnvironment env) {
    if (!env.distributed()) return single();
    TorchRuntime.load();
    boolean nccl = switch (env.backend()) {
      case DistributedEnvironment.NCCL -> true;
      case DistributedEnvironment.GLOO -> false;
      default -> TorchRuntime.cudaAvailable();
    };
    if (nccl && !TorchRuntime.cudaAvailable()) {
      throw new TorchException("MPLUG_DIST_BACKEND=nccl needs CUDA, but libtorch sees no CUDA device (build with "
          + "-Pgpu on a GPU machine, or use gloo on CPUs)");
    }
    Store store = connect(env);
    Milliseconds timeout = new Milliseconds(env.timeout().toMillis());
    ProcessGroup group = new ProcessGroup(adopted(store.clone()), env.rank(), env.worldSize());
    Backend backend;
    try {
      if (nccl) {
        backend = new ProcessGroupNCCL(adopted(store.clone()), env.rank(), env.worldSize());
      } else {
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(timeout);
        options.devices(new GlooDeviceVector(glooDevice(env)));
        backend = new ProcessGroupGloo(adopted(store.clone()), env.rank(), env.worldSize(), options);
      }
    } catch (RuntimeException e) {
      throw new TorchException("rank " + env.rank() + ": the " + (nccl ? "NCCL" : "Gloo") + " group of "
          + env.worldSize() + " ranks did not form within " + env.timeout().toSeconds() + " s (" + firstLine(e)
          + ")", e);
    }
    torch.DeviceType device = nccl ? torch.DeviceType.CUDA : torch.DeviceType.CPU;
    ProcessGroup.BackendType type = nccl ? ProcessGroup.BackendType.NCCL : ProcessGroup.BackendType.GLOO;
    group.setBackend(device, type, new BackendOptional(adopted(backend)));
    group.setDefaultBackend(type);
    ComputeDevice collectives = nccl ? env.deviceOfRank(new ComputeDevice(true, 0)) : ComputeDevice.CPU;
    return new DistributedGroup(env, store, adopted(group), collectives);   // a data-parallel reducer holds it too
  }

  /**
   * The store: a TCPStore where rank 0 listens on MASTER_PORT (unless torchrun's agent serves it already) and the
   * others connect, retrying until the timeout. (Not under a per-restart PrefixStore as Python's elastic runs do: a
   * JavaCPP PrefixStore over a Java-made TCPStore crashed in its first {@code set} here.)
   */
  private static Store connect(DistributedEnvironment env) {
    TCPStoreOptions o = new TCPStoreOptions();
    o.port((short) env.masterPort());
    o.isServer(env.rank() == 0 && !env.agentStore());
    o.numWorkers(new SizeTPointer(1).put(env.worldSize()));
    o.waitWorkers(false);
    o.timeout(new Milliseconds(env.timeout().toMillis()));
    try {
      return new TCPStore(env.masterAddr(), o);
    } catch (RuntimeException e) {
      String why = firstLine(e);
      String lower = why.toLowerCase(Locale.ROOT);
      if (env.rank() == 0 && (lower.contains("address already in use") || lower.contains("errno: 98"))) {
        throw new IllegalArgumentException("MASTER_PORT=" + env.masterPort() + ": the port is already in use on "
            + env.masterAddr() + " (another run? choose a free port)", e);
      }
      if (env.rank() == 0) {
        throw new IllegalArgumentException("rank 0 cannot serve the rendezvous at " + env.master() + ": " + why, e);
      }
      throw new IllegalArgumentException("rank " + env.rank() + " cannot reach the master at " + env.master()
          + " within " + env.timeout().toSeconds() + " s (is rank 0 running, MASTER_ADDR right and the port "
          + "open?): " + why, e);
    }
  }

  /**
   * {@code p}, handed to a c10d constructor that takes it over (an intrusive or shared pointer): JavaCPP must never
   * free it too, or the native owner is left with freed memory (a crash at its next use). It lives as long as the
   * process; a process joins one group.
   */
  private static <P extends Pointer> P adopted(P p) {
    p.retainReference();
    return p;
  }

  /** Gloo's network device: the named interface, else the configured host, else loopback for a loopback master. */
  private static Device glooDevice(DistributedEnvironment env) {
    if (env.networkInterface() != null) return ProcessGroupGloo.createDeviceForInterface(env.networkInterface());
    if (env.host() != null) return ProcessGroupGloo.createDeviceForHostname(env.host());
    try {
      if (InetAddress.getByName(env.masterAddr()).isLoopbackAddress()) {
        return ProcessGroupGloo.createDeviceForHostname("127.0.0.1");
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("MASTER_ADDR=" + env.masterAddr() + " does not resolve", e);
    }
    return ProcessGroupGloo.createDefaultDevice();
  }

  public DistributedEnvironment environment() {
    return env;
  }

  public int rank() {
    return env.rank();
  }

  public int worldSize() {
    return env.worldSize();
  }

  /** Whether this rank writes logs, metrics and checkpoints (rank 0). */
  public boolean writer() {
    return env.rank() == 0;
  }

  public boolean distributed() {
    return group != null;
  }

  /** The native group, for the {@link DistributedDataParallel} reducer. */
  ProcessGroup nativeGroup() {
    return group;
  }

  /** Sums {@code t} over the ranks, in place. */
  public void allReduceSum(Tensor t) {
    if (group == null) return;
    AllreduceOptions o = new AllreduceOptions();
    o.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
    o.timeout(new Milliseconds(env.timeout().toMillis()));
    await("all-reduce", () -> group.allreduce(new TensorVector(t), o));
  }

  /** The element-wise mean of {@code values} over the ranks (every rank gets the same result). */
  public double[] mean(double[] values) {
    if (group == null) return values.clone();
    Tensor host = torch.empty(values.length).to(torch.ScalarType.Double);
    host.data_ptr_double().put(values);
    Tensor t = collectives.to(host);                    // NCCL reduces device tensors only
    allReduceSum(t);
    Tensor back = t.cpu();
    double[] out = new double[values.length];
    back.data_ptr_double().get(out);
    for (int i = 0; i < out.length; i++) out[i] /= worldSize();
    return out;
  }

  /** Every rank's {@code x} ([B, ...], the same shape on each) concatenated in rank order: [W * B, ...]. */
  public Tensor allGather(Tensor x) {
    if (group == null) return x;
    Tensor in = x.contiguous();
    long[] shape = in.sizes().vec().get();
    shape[0] *= worldSize();
    Tensor out = torch.empty(shape, in.options(), new MemoryFormatOptional());   // x's dtype and device
    await("all-gather", () -> group._allgather_base(out, in));
    return out;
  }

  /** Overwrites {@code tensors} on every rank with rank {@code root}'s values. */
  public void broadcast(List<Tensor> tensors, int root) {
    if (group == null || tensors.isEmpty()) return;
    BroadcastOptions o = new BroadcastOptions();
    o.rootRank(root);
    o.timeout(new Milliseconds(env.timeout().toMillis()));
    for (Tensor t : tensors) await("broadcast", () -> group.broadcast(new TensorVector(t), o));
  }

  /** Every rank's {@code bytes}, in rank order (exchanged through the store; lengths may differ). */
  public List<byte[]> allGatherBytes(String what, byte[] bytes) {
    if (group == null) return List.of(bytes);
    String prefix = "mplug/" + (exchanges++) + "/" + what + "/";
    try {
      store.set(prefix + rank(), new ByteVector(bytes));
      List<byte[]> out = new ArrayList<>();
      for (int r = 0; r < worldSize(); r++) out.add(r == rank() ? bytes : store.get(prefix + r).get());
      return out;
    } catch (RuntimeException e) {
      throw new TorchException("rank " + rank() + ": exchanging the " + what + " with the other ranks failed "
          + "within " + env.timeout().toSeconds() + " s (a rank died or is unreachable): " + firstLine(e), e);
    }
  }

  /**
   * Refuses to go on when {@code text} (a config, the parameter shapes) differs between ranks: every rank compares
   * its own with rank 0's and with all others, so all of them stop with the same one-line error.
   */
  public void requireSame(String what, String text) {
    List<byte[]> all = allGatherBytes(what, text.getBytes(StandardCharsets.UTF_8));
    String first = new String(all.get(0), StandardCharsets.UTF_8);
    for (int r = 1; r < all.size(); r++) {
      String other = new String(all.get(r), StandardCharsets.UTF_8);
      if (!other.equals(first)) {
        throw new IllegalArgumentException("rank " + r + "'s " + what + " differs from rank 0's: "
            + firstDifference(first, other));
      }
    }
  }

  /** Waits until every rank gets here (bounded by the timeout). */
  public void barrier() {
    if (group == null) return;
    Tensor t = collectives.to(torch.zeros(1));
    allReduceSum(t);
  }

  private void await(String op, Supplier<Work> start) {
    try {
      Work w = start.get();
      w._wait(new Milliseconds(env.timeout().toMillis()));
    } catch (RuntimeException e) {
      throw new TorchException("rank " + rank() + ": " + op + " failed, another rank died or is unreachable "
          + "(timeout " + env.timeout().toSeconds() + " s): " + firstLine(e), e);
    }
  }

  /** "rank 0 has `a`, this one `b` (item n)": the first differing line, or field of a record's one-line text. */
  static String firstDifference(String a, String b) {
    String[] x = a.split("\n|, ");
    String[] y = b.split("\n|, ");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      String p = i < x.length ? x[i].strip() : "(end)";
      String q = i < y.length ? y[i].strip() : "(end)";
      if (!p.equals(q)) return "rank 0 has `" + p + "`, this one `" + q + "` (item " + (i + 1) + ")";
    }
    return "they differ in whitespace only";
  }

  /** The first meaningful line of a native error (c10 appends a C++ trace). */
  static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    for (String line : m.split("\n")) {
      String s = line.strip();
      if (!s.isEmpty() && !s.startsWith("Exception raised from") && !s.startsWith("frame #")) return s;
    }
    return m.strip();
  }
}
