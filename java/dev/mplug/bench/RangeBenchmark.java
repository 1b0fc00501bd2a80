package dev.mplug.bench;

import dev.mplug.profile.ChromeTrace;
import dev.mplug.profile.Profiler;
import dev.mplug.profile.Range;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one profiling range costs (open + close around a counter increment): {@code idle} while nothing listens, the
 * price every training step pays without {@code --profile} or an Nsight tool; {@code recorded} while a Chrome trace
 * records; {@code baseline} the increment alone. A pretraining step of the demo model opens 30 ranges on the trainer thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RangeBenchmark {
  long counter;

  @Benchmark
  public long baseline() {
    return ++counter;
  }

  @Benchmark
  public long idle() {
    try (Range r = Range.open("forward")) {
      return ++counter;
    }
  }

  /**
   * A trace per iteration, written to a temporary file after it; short iterations keep each under
   * {@link ChromeTrace#MAX_EVENTS} ranges, so every range measured is kept.
   */
  @State(Scope.Thread)
  public static class Recording {
    Path file;
    ChromeTrace trace;

    @Setup(Level.Iteration)
    public void start() throws IOException {
      file = Files.createTempFile("mplug-range-benchmark", ".json");
      trace = Profiler.startTrace(file, "range benchmark");
    }

    @TearDown(Level.Iteration)
    public void stop() throws IOException {
      trace.close();
      Files.delete(file);
    }
  }

  @Benchmark
  @Warmup(iterations = 5, time = 50, timeUnit = TimeUnit.MILLISECONDS)
  @Measurement(iterations = 10, time = 50, timeUnit = TimeUnit.MILLISECONDS)
  public long recorded(Recording recording) {
    try (Range r = Range.open("forward")) {
      return ++counter;
    }
  }
}
