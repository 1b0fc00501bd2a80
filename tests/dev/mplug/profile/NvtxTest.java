package dev.mplug.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The NVTX binding: absent libraries are no error; a present one is called and, without a tool, does nothing. */
class NvtxTest {
  @Test
  void aMissingLibraryIsAbsentNotAnError() {
    assertEquals(Optional.empty(), Nvtx.load(List.of("libmplug-no-such-nvtx.so.1", "/nonexistent/libnvToolsExt.so")));
  }

  @Test
  void aLibraryWithoutTheNvtxFunctionsIsSkipped() {
    // libc loads but has no nvtxRangePushA: the next name is tried, and with none left the binding is absent
    assertEquals(Optional.empty(), Nvtx.load(List.of("libc.so.6")));
  }

  @Test
  void withoutAnAttachedToolNothingListensAndNvtxIsNotLoaded() {
    assumeTrue(System.getenv(Nvtx.INJECTION_VARIABLE) == null, "the test JVM runs under an Nsight tool");
    assertEquals(Optional.empty(), Nvtx.forAttachedTool());
    assertEquals(Optional.empty(), Profiler.nvtxLibrary());
  }

  @Test
  void anInstalledLibraryIsCalledAndReportsThatNoToolIsAttached() {
    Optional<Nvtx> nvtx = Nvtx.load(Nvtx.LIBRARIES);
    assumeTrue(nvtx.isPresent(), "no NVTX library on this machine (CUDA's libnvtx3interop.so.1)");
    assumeTrue(System.getenv(Nvtx.INJECTION_VARIABLE) == null, "the test JVM runs under an Nsight tool");
    assertTrue(Nvtx.LIBRARIES.contains(nvtx.get().library()));
    assertEquals(Nvtx.NO_TOOL, nvtx.get().push("mplug-test"));
    assertEquals(Nvtx.NO_TOOL, nvtx.get().pop());
  }
}
