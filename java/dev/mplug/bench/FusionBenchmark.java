package dev.mplug.bench;

import dev.mplug.model.CoAttentionLayer;
import dev.mplug.model.ConnectedAttentionLayer;
import dev.mplug.model.FusionLayer;
import dev.mplug.model.SkipConnectedFusion;
import dev.mplug.model.TextConfig;
import dev.mplug.nn.AttentionCore;
import dev.mplug.nn.FusedAttention;
import dev.mplug.nn.Masks;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.Precision;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * The fusion network's layers on the fused native path against the composite path, in one JVM with the same threads,
 * at mPLUG-base shapes (hidden 768, 12 heads, FFN 3072, 257 image tokens, 25 text tokens), fp32 or bf16 autocast; and
 * the GEMMs alone of the same layers at the same shapes and precision (this machine's limit for them).
 *
 * <p>{@code impl}: {@code fused} (the native fused kernel), {@code composite} (the reference: concatenated streams, the
 * attention core op by op), {@code sdpa} (concatenated streams, the attention core in ATen's fused SDPA kernel: the
 * project's NATIVE attention path). {@code unit}: {@code coattention} (one co-attention layer), {@code connected} (one connected-attention layer),
 * {@code fusion} (the 6-layer skip-connected fusion at stride 3: five co-attention layers and one connected),
 * {@code connected6} (six connected-attention layers: what the fusion would cost without the skip), {@code attention}
 * (the connected layer's attention core alone: queries [V; L] over keys and values [V; L], from head-split projections
 * in the precision's type, as autocast hands them). {@code pass}:
 * {@code forward} (eval mode, no autograd: inference) or {@code train} (train mode, forward + backward of a fixed
 * random projection of both streams). {@code precision}: {@code fp32}, or {@code bf16} (the forward in a CPU autocast
 * region, as training with {@code train.precision: "bf16"}: the fused kernels then read and write bfloat16 and compute
 * in float32; the GEMM-only operands in bf16). {@code batch} 8 is the training shape, 1 inference.
 * Threads: {@code -p threads=N} sets libtorch's intra-op, OpenBLAS's and the fused kernels' thread count alike.
 *
 * <p>Besides JMH's wall time, each trial prints the CPU time of the benchmark thread per measured operation
 * ({@code cpu ms/op}: the median, then each operation's): at {@code threads=1} all the work runs on that thread (OpenMP
 * and OpenBLAS run single-threaded regions on the caller), so it is the figure that stays comparable when other
 * processes share the cores.
 *
 * <p>{@code gemmOnly} runs only the matrix products of the unit (linear layers as [B*T, in] x [in, out], the attention
 * products as batched [T_q, d] x [d, T_k] and [T_q, T_k] x [T_k, d] per head; with {@code train} each also in its two
 * backward forms), so {@code layers / gemmOnly} is the overhead left outside the GEMMs. The FLOP count of each unit is
 * printed at setup, for the stride-3 versus six-connected-layers ratio beside the measured one.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class FusionBenchmark {
  static final int HIDDEN = 768;
  static final int HEADS = 12;
  static final int FFN = 3072;
  static final int IMAGE_TOKENS = 257;
  static final int TEXT_TOKENS = 25;

  @Param({"coattention", "connected", "fusion", "connected6", "attention"})
  public String unit;

  @Param({"fused", "composite"})
  public String impl;   // fused | composite (op by op) | sdpa (concatenated streams, ATen's attention kernel)

  @Param({"forward", "train"})
  public String pass;

  @Param({"fp32"})
  public String precision;   // fp32 | bf16

  @Param({"8"})
  public int batch;

  @Param({"2"})
  public int threads;

  private final List<Module> modules = new ArrayList<>();
  private final List<FusionLayer> layers = new ArrayList<>();
  private Tensor image, text, imageMask, textMask, upImage, upText;
  private List<Tensor> queries, keys, values;   // unit "attention": per stream [B, H, T, d]
  private List<Gemm> gemms;
  private final ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
  private boolean measuring;
  private final List<Double> cpuMillis = new ArrayList<>();   // per measured operation

  /** One matrix product {@code [batch, m, k] x [batch, k, n]} with its operands. */
  record Gemm(long batch, long m, long k, long n, Tensor a, Tensor b) {
    /**
     * Batch 1 is a linear layer: its weight [n, k] is kept as a linear layer keeps it and the product taken by
     * {@code linear}, the kernel the layers reach (in bf16 on this CPU {@code matmul} takes a path about ten times
     * slower: 9.3 s against 0.96 s for the whole batch-1 fusion forward).
     */
    static Gemm of(long batch, long m, long k, long n, torch.ScalarType dtype) {
      Tensor a = batch == 1 ? torch.randn(m, k) : torch.randn(batch, m, k);
      Tensor b = batch == 1 ? torch.randn(n, k) : torch.randn(batch, k, n);
      return new Gemm(batch, m, k, n, a.to(dtype), b.to(dtype));
    }

    Tensor product() {
      return batch == 1 ? torch.linear(a, b) : torch.matmul(a, b);
    }

    double flops() {
      return 2.0 * batch * m * k * n;
    }
  }

  static TextConfig base(int strideLayer) {
    return new TextConfig(HIDDEN, HEADS, FFN, 30522, 512, 2, 1e-12, 0.1, 0.1, 6, 6, strideLayer, 12, 0);
  }

  @Setup(Level.Trial)
  public void setUp() {
    if (!List.of("fused", "composite", "sdpa").contains(impl)) {
      throw new IllegalArgumentException("impl " + impl + ": expected fused, composite or sdpa");
    }
    TorchRuntime.setThreads(threads);
    TorchRuntime.seed(0);
    FusedAttention.use(impl.equals("fused") ? FusedAttention.Mode.FUSED : FusedAttention.Mode.COMPOSITE);
    AttentionCore.use(impl.equals("sdpa") ? AttentionCore.Impl.NATIVE : AttentionCore.Impl.COMPOSITE);
    TextConfig c = base(3);
    switch (unit) {
      case "coattention" -> add(new CoAttentionLayer(c));
      case "connected" -> add(new ConnectedAttentionLayer(c));
      case "fusion" -> {
        SkipConnectedFusion fusion = new SkipConnectedFusion(c);
        modules.add(fusion);
        layers.addAll(fusion.layers());
      }
      case "connected6" -> {
        for (int i = 0; i < 6; i++) add(new ConnectedAttentionLayer(c));
      }
      case "attention" -> {
        queries = headSplitStreams();
        keys = headSplitStreams();
        values = headSplitStreams();
      }
      default -> throw new IllegalArgumentException("unknown unit " + unit);
    }
    if (!List.of("fp32", "bf16").contains(precision)) {
      throw new IllegalArgumentException("precision " + precision + ": expected fp32 or bf16");
    }
    boolean train = pass.equals("train");
    for (Module m : modules) m.train(train);
    image = torch.randn(batch, IMAGE_TOKENS, HIDDEN);
    text = torch.randn(batch, TEXT_TOKENS, HIDDEN);
    Tensor keep = torch.ones(batch, TEXT_TOKENS);
    keep.narrow(1, TEXT_TOKENS - 5, 5).zero_();                      // the last 5 text tokens are padding
    textMask = Masks.additive(keep, Masks.SELF_ATTENTION_MASKED, text);
    imageMask = Masks.additive(torch.ones(batch, IMAGE_TOKENS), Masks.CROSS_ATTENTION_MASKED, image);
    upImage = torch.randn(batch, IMAGE_TOKENS, HIDDEN);
    upText = torch.randn(batch, TEXT_TOKENS, HIDDEN);
    gemms = gemmsOf(unit, batch, train, precision.equals("bf16") ? torch.ScalarType.BFloat16 : torch.ScalarType.Float);
    double flops = gemms.stream().mapToDouble(Gemm::flops).sum();
    System.out.printf("%n%s %s batch %d: %.2f GFLOP in GEMMs (fusion/connected6 FLOP ratio %.3f)%n", unit, pass,
        batch, flops / 1e9, flopsOf("fusion", batch, train) / flopsOf("connected6", batch, train));
  }

  @Setup(Level.Iteration)
  public void startIteration(IterationParams iteration) {
    measuring = iteration.getType() == IterationType.MEASUREMENT;
  }

  /** One line per trial: the benchmark thread's CPU time per measured operation, with the trial's parameters. */
  @TearDown(Level.Trial)
  public void reportCpuTime(BenchmarkParams params) {
    if (cpuMillis.isEmpty()) return;
    double[] sorted = cpuMillis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    System.out.printf(Locale.ROOT, "%ncpu ms/op %s unit=%s impl=%s pass=%s precision=%s batch=%d threads=%d: %.1f "
        + "(median; ops %s)%n", params.getBenchmark().replaceAll(".*\\.", ""), unit, impl, pass, precision, batch,
        threads, sorted[sorted.length / 2],
        cpuMillis.stream().map(ms -> String.format(Locale.ROOT, "%.1f", ms)).toList());
  }

  /** Runs {@code op}, adding the benchmark thread's CPU time to the trial's total in measurement iterations. */
  private double timed(DoubleSupplier op) {
    long start = cpu.getCurrentThreadCpuTime();
    double result = op.getAsDouble();
    if (measuring) cpuMillis.add((cpu.getCurrentThreadCpuTime() - start) / 1e6);
    return result;
  }

  /** Random head-split projections of both streams, [B, H, Nv, d] and [B, H, T, d], leaves requiring grad. */
  private List<Tensor> headSplitStreams() {
    torch.ScalarType dtype = precision.equals("bf16") ? torch.ScalarType.BFloat16 : torch.ScalarType.Float;
    List<Tensor> r = new ArrayList<>();
    for (int t : new int[] {IMAGE_TOKENS, TEXT_TOKENS}) {
      Tensor x = torch.randn(batch, t, HIDDEN).to(dtype).view(batch, t, HEADS, HIDDEN / HEADS).transpose(1, 2);
      r.add(x.detach().requires_grad_(pass.equals("train")));
    }
    return r;
  }

  /** The attention core alone on the fused or the composite path: per stream [B, T, H]. */
  private FusionLayer.Streams attend() {
    double scale = 1 / Math.sqrt(HIDDEN / HEADS);
    if (impl.equals("fused")) {
      List<Tensor> out = FusedAttention.apply(queries, keys, values, List.of(imageMask, textMask), scale, 0.0);
      return new FusionLayer.Streams(out.get(0), out.get(1));
    }
    Tensor m = torch.cat(new TensorVector(imageMask, textMask), 3);                     // [B, 1, 1, Nv + T]
    Tensor out = AttentionCore.apply(torch.cat(new TensorVector(queries.get(0), queries.get(1)), 2),
        torch.cat(new TensorVector(keys.get(0), keys.get(1)), 2),
        torch.cat(new TensorVector(values.get(0), values.get(1)), 2), m, scale, false);  // [B, Nv + T, H]
    return new FusionLayer.Streams(out.narrow(1, 0, IMAGE_TOKENS), out.narrow(1, IMAGE_TOKENS, TEXT_TOKENS));
  }

  private void add(Module layer) {
    modules.add(layer);
    layers.add((FusionLayer) layer);
  }

  @Benchmark
  public double layers() {
    return timed(this::runLayers);
  }

  private double runLayers() {
    try (TensorScope scope = TensorScope.open()) {
      if (pass.equals("forward")) {
        try (NoGradGuard noGrad = new NoGradGuard()) {
          return run().image().data_ptr_float().get();
        }
      }
      for (Module m : modules) m.zero_grad(true);
      if (queries != null) {
        for (List<Tensor> xs : List.of(queries, keys, values)) {
          for (Tensor x : xs) {
            if (x.grad().defined()) x.grad().zero_();
          }
        }
      }
      FusionLayer.Streams out = run();
      out.image().mul(upImage).sum().add(out.text().mul(upText).sum()).backward();
      return out.text().data_ptr_float().get();
    }
  }

  private FusionLayer.Streams run() {
    try (Autocast region = Autocast.cpu(precision.equals("bf16") ? Precision.BF16 : Precision.FP32)) {
      if (unit.equals("attention")) {
        FusionLayer.Streams s = attend();
        return new FusionLayer.Streams(s.image().to(torch.ScalarType.Float), s.text().to(torch.ScalarType.Float));
      }
      Tensor v = image, l = text;
      for (FusionLayer layer : layers) {
        FusionLayer.Streams s = layer.fuse(v, l, imageMask, textMask);
        v = s.image();
        l = s.text();
      }
      return new FusionLayer.Streams(v.to(torch.ScalarType.Float), l.to(torch.ScalarType.Float));
    }
  }

  @Benchmark
  public double gemmOnly() {
    return timed(this::runGemms);
  }

  private double runGemms() {
    try (TensorScope scope = TensorScope.open(); NoGradGuard noGrad = new NoGradGuard()) {
      double sink = 0;
      for (Gemm g : gemms) sink += g.product().reshape(-1).select(0, 0).item_double();
      return sink;
    }
  }

  static double flopsOf(String unit, int batch, boolean train) {
    try (TensorScope scope = TensorScope.open()) {
      return shapesOf(unit, batch, train).stream().mapToDouble(s -> 2.0 * s[0] * s[1] * s[2] * s[3]).sum();
    }
  }

  static List<Gemm> gemmsOf(String unit, int batch, boolean train, torch.ScalarType dtype) {
    List<Gemm> r = new ArrayList<>();
    for (long[] s : shapesOf(unit, batch, train)) r.add(Gemm.of(s[0], s[1], s[2], s[3], dtype));
    return r;
  }

  /** {batch, m, k, n} of every product of the unit; with {@code train} also the two backward products of each. */
  static List<long[]> shapesOf(String unit, int batch, boolean train) {
    List<long[]> fwd = new ArrayList<>();
    long b = batch, t = TEXT_TOKENS, nv = IMAGE_TOKENS, n = nv + t, d = HIDDEN / HEADS;
    Runnable co = () -> {
      for (int i = 0; i < 4; i++) fwd.add(new long[] {1, b * t, HIDDEN, HIDDEN});   // self q, k, v, o
      fwd.add(new long[] {b * HEADS, t, d, t});
      fwd.add(new long[] {b * HEADS, t, t, d});
      for (int i = 0; i < 2; i++) fwd.add(new long[] {1, b * t, HIDDEN, HIDDEN});   // cross q, o
      for (int i = 0; i < 2; i++) fwd.add(new long[] {1, b * nv, HIDDEN, HIDDEN});  // cross k, v over the image
      fwd.add(new long[] {b * HEADS, t, d, nv});
      fwd.add(new long[] {b * HEADS, t, nv, d});
      fwd.add(new long[] {1, b * t, HIDDEN, FFN});
      fwd.add(new long[] {1, b * t, FFN, HIDDEN});
    };
    Runnable connected = () -> {
      for (int i = 0; i < 4; i++) fwd.add(new long[] {1, b * n, HIDDEN, HIDDEN});   // q, k, v, o over [V; L]
      fwd.add(new long[] {b * HEADS, n, d, n});
      fwd.add(new long[] {b * HEADS, n, n, d});
      fwd.add(new long[] {1, b * n, HIDDEN, FFN});
      fwd.add(new long[] {1, b * n, FFN, HIDDEN});
    };
    switch (unit) {
      case "coattention" -> co.run();
      case "connected" -> connected.run();
      case "fusion" -> {
        for (int layer = 0; layer < 6; layer++) (layer == 3 ? connected : co).run();
      }
      case "connected6" -> {
        for (int layer = 0; layer < 6; layer++) connected.run();
      }
      case "attention" -> {
        fwd.add(new long[] {b * HEADS, n, d, n});
        fwd.add(new long[] {b * HEADS, n, n, d});
      }
      default -> throw new IllegalArgumentException("unknown unit " + unit);
    }
    if (!train) return fwd;
    List<long[]> all = new ArrayList<>();
    for (long[] s : fwd) {
      all.add(s);
      all.add(new long[] {s[0], s[1], s[3], s[2]});   // d input  = d output x W^T
      all.add(new long[] {s[0], s[2], s[1], s[3]});   // d weight = input^T x d output
    }
    return all;
  }
}
