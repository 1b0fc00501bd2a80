package dev.mplug.bench;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.nn.AttentionCore;
import dev.mplug.nn.Masks;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
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

/**
 * The native attention op (one FFM call: fused ATen attention + head merge) against the same computation issued op by
 * op through JavaCPP (the reference path), forward only, with a padding mask.
 *
 * <p>Shapes: {@code small} = text self-attention of a tiny model (B 2, H 4, T 32, d 16); {@code mid} = ViT-B/16
 * self-attention at 256 px (B 2, H 12, T 257, d 64). Threads come from {@code -p threads=N} (intra-op and BLAS).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class AttentionBenchmark {
  @Param({"small", "mid"})
  public String shape;

  @Param({"1"})
  public int threads;

  private Tensor q;
  private Tensor k;
  private Tensor v;
  private Tensor mask;
  private double scale;

  @Setup(Level.Trial)
  public void setUp() {
    TorchRuntime.setThreads(threads);
    TorchRuntime.seed(0);
    long[] s = switch (shape) {
      case "small" -> new long[] {2, 4, 32, 16};
      case "mid" -> new long[] {2, 12, 257, 64};
      default -> throw new IllegalArgumentException("unknown shape " + shape + " (small, mid)");
    };
    q = torch.randn(s);
    k = torch.randn(s);
    v = torch.randn(s);
    Tensor keep = torch.ones_like(q.select(1, 0).select(2, 0));   // [B, T] keep mask, last quarter padded
    keep.narrow(1, s[2] * 3 / 4, s[2] - s[2] * 3 / 4).zero_();
    mask = Masks.additive(keep, Masks.SELF_ATTENTION_MASKED, q);
    scale = 1.0 / Math.sqrt(s[3]);
    AttentionCore.apply(q, k, v, mask, scale, false);            // loads the extension before timing
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (Tensor t : new Tensor[] {q, k, v, mask}) t.close();
  }

  @Benchmark
  public float nativeOp() {
    try (TensorScope scope = TensorScope.open()) {
      return NativeOps.attention(q, k, v, mask, scale, false).data_ptr_float().get();
    }
  }

  @Benchmark
  public float opByOp() {
    try (TensorScope scope = TensorScope.open()) {
      return AttentionCore.composite(q, k, v, mask, scale, false).contiguous().data_ptr_float().get();
    }
  }
}
