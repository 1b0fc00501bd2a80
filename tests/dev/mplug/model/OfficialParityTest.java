package dev.mplug.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.cli.FixtureForward;
import dev.mplug.nn.FusedAttention;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The proof that this is mPLUG: each official fixture (tests/fixtures/mplug-official) imported through the
 * official-name mapping reproduces every output of the official code, through the same code path as
 * {@code mplug forward}. Tolerance: |diff| <= 2e-5 + 1e-5 |expected| for floats (5x tighter in atol and 10x in rtol
 * than the fixture README's 1e-4 + 1e-4), integers (generated ids, lengths) equal. Generation is checked with and
 * without the key/value cache. The fusion layers run on the fused native path (the default) and, for the fixtures with
 * a fusion network, on the composite path too.
 */
class OfficialParityTest {
  private static final FixtureForward.Tolerance TOLERANCE = new FixtureForward.Tolerance(2e-5, 1e-5);
  private static final Path ROOT = Path.of("tests/fixtures/mplug-official");

  @ParameterizedTest(name = "{0} cached={1} {2}")
  @CsvSource({"vqa-base-stride3, true, fused", "vqa-base-stride3, false, fused", "caption-base, true, fused",
      "caption-base, false, fused", "retrieval-large-stride6, true, fused", "fusion-stride2, true, fused",
      "vqa-base-stride3, true, composite", "retrieval-large-stride6, true, composite",
      "fusion-stride2, true, composite"})
  void reproducesEveryOfficialOutput(String fixture, boolean cached, String attention) throws Exception {
    Path dir = ROOT.resolve(fixture);
    FusedAttention.Mode previous = FusedAttention.use(FusedAttention.Mode.parse(attention, "attention"));
    long fusedBefore = FusedAttention.calls();
    try (FixtureForward.Run run = FixtureForward.run(dir, cached)) {
      assertTrue(run.load().complete(), run.load().summary());
      Map<String, Tensor> outputs = run.outputs();
      assertEquals(run.config().task().equals("fusion") ? 4 : switch (run.config().task()) {
        case "vqa" -> 16;
        case "caption" -> 10;
        default -> 13;
      }, outputs.size(), "every output config.json lists: " + outputs.keySet());
      List<FixtureForward.Difference> rows = FixtureForward.compare(outputs, dir.resolve("outputs.pth"), TOLERANCE);
      StringBuilder report = new StringBuilder();
      for (FixtureForward.Difference d : rows) {
        report.append(String.format("%n  %-20s max abs %.3e  x tol %.3f  %s", d.name(), d.maxAbs(), d.worst(),
            d.ok() ? "OK" : "NOT OK"));
      }
      System.out.println(fixture + " cached=" + cached + report);
      for (FixtureForward.Difference d : rows) assertTrue(d.ok(), fixture + ": " + d.name() + report);
      boolean fusedRan = FusedAttention.calls() > fusedBefore;
      boolean fusion = outputs.keySet().stream().anyMatch(k -> k.startsWith("fusion_"));
      assertEquals(attention.equals("fused") && fusion, fusedRan, "the fusion layers took the " + attention + " path");
    } finally {
      FusedAttention.use(previous);
    }
  }
}
