package dev.mplug.nativeops;

import dev.mplug.torch.TorchException;
import dev.mplug.torch.TorchRuntime;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;

/**
 * Finds the extension library shipped in the project jar ({@code dev/mplug/nativeops/linux-x86_64/libmplug_native.so}),
 * extracts it to the JavaCPP cache when it sits inside a jar, and loads it AFTER libtorch: its {@code NEEDED
 * libtorch_cpu.so} entry then resolves to the already-loaded jar copy, never a system-wide libtorch.
 */
public final class NativeLibrary {
  public static final String RESOURCE = "linux-x86_64/" + System.mapLibraryName("mplug_native");
  private static volatile Path loadedFrom;
  private static volatile TorchException failure;

  private NativeLibrary() {}

  /** Loads the extension once; throws {@link TorchException} saying what is missing and how to fix it. */
  public static synchronized Path load() {
    if (loadedFrom != null) return loadedFrom;
    if (failure != null) throw failure;
    TorchRuntime.load();
    try {
      URL url = NativeLibrary.class.getResource(RESOURCE);
      if (url == null) {
        throw new TorchException("the native extension " + RESOURCE + " is not on the class path next to "
            + NativeLibrary.class.getName() + ": build it with `mvn package` (needs CMake >= 3.22 and a C++17 "
            + "compiler), or run ./mplug, which builds when needed");
      }
      File file;
      try {
        // Straight from target/classes when unpacked; extracted to the JavaCPP cache when inside a jar.
        file = "file".equals(url.getProtocol()) ? new File(url.toURI())
            : Loader.cacheResource(NativeLibrary.class, RESOURCE);
      } catch (IOException | URISyntaxException e) {
        throw new TorchException("could not extract the native extension " + RESOURCE + ": " + e.getMessage(), e);
      }
      try {
        System.load(file.getAbsolutePath());
      } catch (UnsatisfiedLinkError e) {
        throw new TorchException("could not load the native extension " + file + ": " + e.getMessage()
            + " (rebuild with `mvn clean package` so it links against this project's libtorch)", e);
      }
      loadedFrom = file.toPath();
      return loadedFrom;
    } catch (TorchException e) {
      failure = e;
      throw e;
    }
  }

  /** Whether the extension is loaded or loads now; never throws. */
  public static boolean isAvailable() {
    try {
      load();
      return true;
    } catch (TorchException e) {
      return false;
    }
  }

  /** Why the extension could not be loaded, or null. */
  public static String failureMessage() {
    return failure == null ? null : failure.getMessage();
  }
}
