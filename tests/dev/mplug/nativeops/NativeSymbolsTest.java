package dev.mplug.nativeops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.torch.TorchException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The C header and the built library agree: every declared function is exported, and the bindings cover them. */
class NativeSymbolsTest {
  private static final Path HEADER = Path.of("jextract", "mplug_native.h");

  static List<String> declaredFunctions() throws IOException {
    String text = Files.readString(HEADER);
    Matcher m = Pattern.compile("^MPLUG_API\\s+[\\w\\s*]+?\\b(mplug_\\w+)\\s*\\(", Pattern.MULTILINE).matcher(text);
    List<String> names = new ArrayList<>();
    while (m.find()) names.add(m.group(1));
    return names;
  }

  @Test
  void everyDeclaredFunctionIsExportedByTheBuiltLibrary() throws IOException {
    List<String> names = declaredFunctions();
    assertEquals(List.of("mplug_abi_version", "mplug_last_error", "mplug_cuda_compiled", "mplug_tensor_free",
        "mplug_attention", "mplug_joint_attention_forward", "mplug_joint_attention_backward",
        "mplug_residual_layer_norm_forward", "mplug_residual_layer_norm_backward",
        "mplug_cuda_masked_softmax", "mplug_cuda_joint_attention_forward", "mplug_cuda_joint_attention_backward",
        "mplug_cuda_residual_layer_norm_forward", "mplug_cuda_residual_layer_norm_backward"),
        names, "functions parsed from " + HEADER);
    Path lib = NativeLibrary.load();
    try (Arena arena = Arena.ofConfined()) {
      SymbolLookup lookup = SymbolLookup.libraryLookup(lib, arena);
      for (String name : names) assertTrue(lookup.find(name).isPresent(), name + " missing from " + lib);
      assertFalse(lookup.find("mplug_not_declared").isPresent(), "lookup must not invent symbols");
    }
  }

  @Test
  void bindingsHaveAMethodPerDeclaredFunction() throws IOException {
    for (String name : declaredFunctions()) {
      boolean found = false;
      for (var method : mplug_native_h.class.getDeclaredMethods()) found |= method.getName().equals(name);
      assertTrue(found, "mplug_native_h has no binding for " + name + ": run jextract/regenerate.sh");
    }
  }

  @Test
  void abiVersionAndCudaFlagAreReadable() {
    assertEquals(5, NativeOps.abiVersion(), "C API v5: the fused ops take bfloat16 tensors too");
    // The default build is CPU-only; the CUDA entry point then reports that it is not compiled in.
    if (!NativeOps.cudaCompiled()) {
      var e = assertThrows(TorchException.class, () -> NativeOps.check(mplug_native_h.mplug_cuda_masked_softmax(
          MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, 1, 1, 1, 1f, MemorySegment.NULL)));
      assertTrue(e.getMessage().contains("no CUDA kernels"), e.getMessage());
      var ln = assertThrows(TorchException.class, () -> NativeOps.check(
          mplug_native_h.mplug_cuda_residual_layer_norm_forward(MemorySegment.NULL, MemorySegment.NULL,
              MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, 1, 1,
              mplug_native_h.MPLUG_DTYPE_BFLOAT16(), 0f, 0, 1e-12f, MemorySegment.NULL, MemorySegment.NULL,
              MemorySegment.NULL, MemorySegment.NULL)));
      assertTrue(ln.getMessage().contains("mplug_cuda_residual_layer_norm_forward: this build has no CUDA kernels"),
          ln.getMessage());
    }
  }
}
