package dev.mplug.cli;

import dev.mplug.io.SafeTensors;
import dev.mplug.torch.TorchRuntime;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mplug forward}: run an official reference-fixture folder through the Java model. */
@Command(name = "forward", mixinStandardHelpOptions = true,
    description = {"Run the computations a fixture folder describes (config.json, model.pth, inputs.pth: the layout "
        + "of tests/fixtures/mplug-official) and write every output config.json lists, under the same names, "
        + "shapes and dtypes, to a safetensors file.",
        "When the folder has outputs.pth, print the max abs / rel difference per output and exit 1 if any float "
        + "output is beyond |diff| <= atol + rtol |expected| or any integer output differs."})
public final class ForwardCommand implements Callable<Integer> {
  @Option(names = "--fixture", required = true, paramLabel = "DIR", description = "The fixture folder.")
  Path fixture;

  @Option(names = "--output", paramLabel = "FILE", description = "Where to write the outputs (.safetensors).")
  Path output;

  @Option(names = "--no-cache", description = "Generate without the key/value cache (re-run the prefix per step, "
      + "as the official code does).")
  boolean noCache;

  @Option(names = "--atol", description = "Absolute tolerance (default: config.json suggested_tolerance, else 1e-4).")
  Double atol;

  @Option(names = "--rtol", description = "Relative tolerance (default: config.json suggested_tolerance, else 1e-4).")
  Double rtol;

  @Option(names = "--threads", description = "Intra-op and BLAS threads (default: MPLUG_THREADS, else "
      + "OPENBLAS_NUM_THREADS, else all cores).")
  Integer threads;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    TorchRuntime.load();
    if (threads != null) TorchRuntime.setThreads(threads);
    if (!Files.isDirectory(fixture)) throw new IllegalArgumentException(fixture + " is not a folder");
    long start = System.nanoTime();
    try (FixtureForward.Run run = FixtureForward.run(fixture, !noCache)) {
      double seconds = (System.nanoTime() - start) / 1e9;
      out.printf(Locale.ROOT, "%s (%s): %d outputs in %.2f s%n", fixture, run.config().task(), run.outputs().size(),
          seconds);
      out.println(run.load().summary().lines().findFirst().orElse(""));
      if (output != null) {
        SafeTensors.write(output, run.outputs(), Map.of("fixture", fixture.toString(), "task", run.config().task()));
        out.println("wrote " + output);
      }
      Path reference = fixture.resolve("outputs.pth");
      if (!Files.isRegularFile(reference)) {
        out.println("no outputs.pth: nothing to compare");
        return 0;
      }
      FixtureForward.Tolerance tol = new FixtureForward.Tolerance(atol != null ? atol : run.tolerance().atol(),
          rtol != null ? rtol : run.tolerance().rtol());
      List<FixtureForward.Difference> rows = FixtureForward.compare(run.outputs(), reference, tol);
      out.printf(Locale.ROOT, "tolerance: |diff| <= %.1e + %.1e |expected| (floats), equal (integers)%n", tol.atol(),
          tol.rtol());
      out.printf(Locale.ROOT, "%-22s %-14s %12s %12s %8s  %s%n", "output", "shape", "max abs", "max rel", "x tol",
          "status");
      boolean ok = true;
      for (FixtureForward.Difference d : rows) {
        ok &= d.ok();
        String shape = Arrays.toString(d.shape()).replace(" ", "");
        if (d.integer()) {
          out.printf(Locale.ROOT, "%-22s %-14s %12s %12s %8s  %s%n", d.name(), shape,
              d.mismatches() == 0 ? "equal" : d.mismatches() + " differ", "-", "-", d.ok() ? "OK" : "NOT OK");
        } else {
          out.printf(Locale.ROOT, "%-22s %-14s %12.3e %12.3e %8.3f  %s%n", d.name(), shape, d.maxAbs(), d.maxRel(),
              d.worst(), d.ok() ? "OK" : "NOT OK");
        }
      }
      out.println(ok ? "all outputs within tolerance" : "SOME OUTPUTS ARE BEYOND TOLERANCE");
      return ok ? 0 : 1;
    }
  }
}
