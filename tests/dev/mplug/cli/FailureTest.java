package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.BadSampleException;
import dev.mplug.data.loader.TooManyBadSamplesException;
import dev.mplug.io.CheckpointException;
import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mapping from what was thrown to the one line and the exit code. */
class FailureTest {
  /** 2^58 floats = 2^60 bytes (1 EiB): beyond any machine's address space, so the allocator always refuses. */
  private static final long HUGE = 1L << 58;

  private static RuntimeException hugeAllocation() {
    TorchRuntime.load();
    try {
      Tensor t = torch.empty(HUGE);
      t.close();
      return fail("libtorch allocated 1 EiB");
    } catch (RuntimeException e) {
      return e;
    }
  }

  @Test
  void libtorchOutOfMemoryIsOneLineNamingTheSizeAndTheFix() {
    RuntimeException raw = hugeAllocation();
    assertTrue(raw.getMessage().contains("DefaultCPUAllocator"), raw.getMessage());
    Failure f = Failure.of(raw);
    assertEquals(Failure.USER, f.exitCode());
    assertTrue(f.reason().startsWith("out of memory: libtorch could not allocate 1.0 EiB for a tensor"), f.reason());
    assertTrue(f.reason().contains("smaller batch"), f.reason());
    assertFalse(f.reason().contains("\n"), f.reason());
    // as the loaders see it: wrapped in a TorchException that says what was being done
    RuntimeException wrapped = assertThrows(TorchException.class,
        () -> TorchException.wrap("allocating model.weight", () -> torch.empty(HUGE)));
    assertEquals(f, Failure.of(wrapped));
    // and as a worker thread hands it over
    assertEquals(f, Failure.of(new ExecutionException(wrapped)));
  }

  @Test
  void cudaOutOfMemoryMessageIsRecognised() {
    // the text of c10's CUDACachingAllocator (CPU-only build here, so the message is written out)
    String m = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity; 77.01 GiB already "
        + "allocated)";
    Failure f = Failure.of(new RuntimeException(m));
    assertEquals(Failure.USER, f.exitCode());
    assertTrue(f.reason().startsWith("out of GPU memory: libtorch could not allocate 2.00 GiB on the GPU; use a "
        + "smaller batch"), f.reason());
  }

  @Test
  void javaHeapExhaustionIsOneLine() {
    OutOfMemoryError real;
    try {
      long[] tooBig = new long[Integer.MAX_VALUE];
      real = fail("allocated " + tooBig.length + " longs");
    } catch (OutOfMemoryError e) {
      real = e;
    }
    Failure f = Failure.of(real);
    assertEquals(Failure.USER, f.exitCode());
    assertTrue(f.reason().startsWith("out of memory in the JVM (" + real.getMessage() + ", max heap "), f.reason());
    assertTrue(f.reason().contains("MPLUG_JAVA_OPTS=-Xmx16g"), f.reason());
  }

  @Test
  void userErrorsKeepTheirMessage() {
    assertEquals(new Failure(2, "stopping: 3 of 8 samples were bad"),
        Failure.of(new TooManyBadSamplesException("stopping: 3 of 8 samples were bad")));
    assertEquals(new Failure(2, "a.jpg: truncated JPEG"),
        Failure.of(new BadSampleException("a.jpg", "truncated JPEG")));
    assertEquals(new Failure(2, "data.batch_size must be >= 2"),
        Failure.of(new IllegalArgumentException("data.batch_size must be >= 2")));
    assertEquals(new Failure(2, "m.safetensors: key 'w': truncated"),
        Failure.of(new CheckpointException(Path.of("m.safetensors"), "w", "truncated")));
    assertEquals(new Failure(2, "cannot read /d/a.json: /d/a.json: no such file or folder"), Failure.of(
        new UncheckedIOException("cannot read /d/a.json: /d/a.json", new NoSuchFileException("/d/a.json"))));
    assertEquals(new Failure(2, "output_dir: /proc/x is not writable (/proc/x: permission denied)"),
        Failure.of(new IllegalArgumentException("output_dir: /proc/x is not writable (/proc/x)",
            new AccessDeniedException("/proc/x"))));
    assertEquals(new Failure(2, "a -> b: Device busy"), Failure.of(new FileSystemException("a", "b", "Device busy")));
    assertEquals(new Failure(2, "/data/ann.json: no such file or folder"),
        Failure.of(new NoSuchFileException("/data/ann.json")));
    // wrappers without a message of their own are looked through
    assertEquals(new Failure(2, "/data/ann.json: no such file or folder"),
        Failure.of(new UncheckedIOException(new NoSuchFileException("/data/ann.json"))));
    assertEquals(new Failure(2, "stopping"),
        Failure.of(new RuntimeException(new TooManyBadSamplesException("stopping"))));
  }

  @Test
  void jsonParseErrorsSayWhereOnOneLine(@TempDir Path tmp) throws IOException {
    Path file = Files.writeString(tmp.resolve("config.json"), "{\"task\": \"vqa\",\n \"layers\": }\n");
    IOException e = assertThrows(IOException.class, () -> new ObjectMapper().readTree(file.toFile()));
    assertTrue(e.getMessage().contains("\n"), "Jackson's own message has the location on a second line");
    Failure f = Failure.of(new IllegalArgumentException("fixture: " + e.getMessage(), e));
    assertEquals(Failure.USER, f.exitCode());
    assertTrue(f.reason().startsWith("fixture: Unexpected character ('}'"), f.reason());
    assertTrue(f.reason().endsWith(": expected a value at line 2, column 12"), f.reason());
  }

  @Test
  void anythingElseIsAnInternalErrorPointingToDebug() {
    Failure f = Failure.of(new NullPointerException("Cannot invoke \"Tensor.size()\" because \"t\" is null"));
    assertEquals(new Failure(70, "internal error: java.lang.NullPointerException: Cannot invoke \"Tensor.size()\" "
        + "because \"t\" is null (run with --debug for the trace)"), f);
    assertEquals(new Failure(70, "internal error: java.lang.IllegalStateException (run with --debug for the trace)"),
        Failure.of(new IllegalStateException()));
  }

  @Test
  void cudaAskedForWithoutCudaIsAUserError() {
    if (TorchRuntime.cudaAvailable()) {
      assertDoesNotThrow(() -> TorchRuntime.requireCuda("pretrain"));
      return;
    }
    TorchException e = assertThrows(TorchException.class, () -> TorchRuntime.requireCuda("pretrain"));
    Failure f = Failure.of(e);
    assertEquals(Failure.USER, f.exitCode());
    assertTrue(f.reason().startsWith("pretrain asked for CUDA, but libtorch sees no CUDA device"), f.reason());
    assertFalse(f.reason().contains("\n"));
  }

  @Test
  void multiLineMessagesKeepTheirFirstLine() {
    assertEquals("checkpoint c was written for another model config; it holds (2 more lines with --debug)",
        Failure.oneLine("checkpoint c was written for another model config; it holds:\nvision {\n}\n"));
    assertEquals("bad shape [2, 3]", Failure.oneLine("bad shape [2, 3]\nException raised from foo at bar.cpp:1\n"
        + "frame #0: c10::Error::Error\nframe #1: at::native::foo"));
    assertEquals("a (1 more line with --debug)", Failure.oneLine("a\n\nb\n"));
    assertEquals("(no message)", Failure.oneLine(null));
  }

  @Test
  void byteCounts() {
    assertEquals("100 bytes", Failure.bytes(100));
    assertEquals("1.5 KiB", Failure.bytes(1536));
    assertEquals("3.0 GiB", Failure.bytes(3L << 30));
    assertEquals("1.0 EiB", Failure.bytes(1L << 60));
  }

  @Test
  void debugEnvironmentValues() {
    assertTrue(Main.debugRequested("1"));
    assertTrue(Main.debugRequested(" TRUE "));
    assertFalse(Main.debugRequested("0"));
    assertFalse(Main.debugRequested(""));
    assertFalse(Main.debugRequested(null));
    assertNull(Failure.nativeOutOfMemory(new RuntimeException("shape mismatch")));
  }
}
