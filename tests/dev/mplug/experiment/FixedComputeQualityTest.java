package dev.mplug.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.MPlugConfig;
import dev.mplug.task.pretrain.PretrainConfig;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fixed-compute quality experiment: its budget arithmetic, aggregation, table and plot, and a whole tiny run. */
class FixedComputeQualityTest {
  @TempDir Path tmp;

  @Test
  void theBudgetBuysTheWholeStepsThatFit() {
    assertEquals(3, FixedComputeQuality.stepsFor(10e12, 3e12));
    assertEquals(3, FixedComputeQuality.stepsFor(9e12, 3e12));
    assertEquals(1, FixedComputeQuality.stepsFor(3e12, 3e12));
    // a variant at half the FLOPs per step gets twice the steps
    assertEquals(2 * FixedComputeQuality.stepsFor(12e12, 2e12), FixedComputeQuality.stepsFor(12e12, 1e12));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FixedComputeQuality.stepsFor(1e12, 3e12));
    assertTrue(e.getMessage().startsWith("--budget 1.00e+12 FLOPs is below one pretraining step"), e.getMessage());
  }

  @Test
  void theSpreadOverSeedsIsTheMeanSampleStdAndRange() {
    SeedSpread s = SeedSpread.of(1, 2, 3, 6);   // mean 3; squares 4 + 1 + 0 + 9 = 14; std sqrt(14 / 3)
    assertEquals(3.0, s.mean(), 1e-12);
    assertEquals(Math.sqrt(14.0 / 3), s.std(), 1e-12);
    assertEquals(1.0, s.min());
    assertEquals(6.0, s.max());
    assertEquals("3.00 ± 2.16 (1.00-6.00)", s.format(2));
    SeedSpread one = SeedSpread.of(41.25);
    assertTrue(Double.isNaN(one.std()));
    assertEquals("41.3", one.format(1));   // one seed: no spread to show
    assertThrows(IllegalArgumentException.class, SeedSpread::of);
  }

  @Test
  void theVariantsAreSelectedByIdAndAnUnknownOneIsNamed() {
    List<FixedComputeQuality.Variant> all = FixedComputeQuality.variants(MPlugConfig.tiny());
    assertEquals(List.of("mplug", "connected", "co-attention", "lambda-fusion", "lambda-vision", "lambda-both",
        "mvm-pixels", "mvm-features"), all.stream().map(FixedComputeQuality.Variant::id).toList());
    assertEquals(List.of("lambda-both", "mplug"), FixedComputeQuality.select(all, List.of("lambda-both", "mplug"))
        .stream().map(FixedComputeQuality.Variant::id).toList());
    assertTrue(all.get(7).objectives().contains("objectives.mvm_target=momentum_features"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FixedComputeQuality.select(all, List.of("lambda")));
    assertTrue(e.getMessage().startsWith("--variants: \"lambda\" is not one of [mplug, connected"), e.getMessage());
  }

  @Test
  void theTableAggregatesEachVariantsSeedsAndThePlotDrawsEveryVariant() throws Exception {
    List<FixedComputeQuality.Variant> variants = FixedComputeQuality.select(
        FixedComputeQuality.variants(MPlugConfig.tiny()), List.of("mplug", "lambda-fusion"));
    List<FixedComputeQuality.Run> runs = List.of(
        new FixedComputeQuality.Run("mplug", 1, 100, 10.0, 0.5, 600, 10, 30, 40, 20, 120),
        new FixedComputeQuality.Run("mplug", 2, 100, 10.0, 0.7, 610, 20, 40, 44, 30, 130),
        new FixedComputeQuality.Run("lambda-fusion", 1, 120, 8.0, 0.4, 620, 5, 25, 38, 10, 110));
    FixedComputeQuality.write(tmp, variants, runs, "header");
    String table = Files.readString(tmp.resolve("table.md"));
    List<String> lines = table.lines().toList();
    assertEquals("header", lines.get(0));
    // mplug over its two seeds: R@1 mean 15, std sqrt(50) = 7.07; lambda fusion one seed: the value alone
    assertEquals("| mplug (stride 2) | 2 | 100 ± 0 (100-100) | 10.00 ± 0.00 (10.00-10.00) | 0.600 ± 0.141 "
        + "(0.500-0.700) | 605 ± 7 (600-610) | 15.0 ± 7.1 (10.0-20.0) | 35.0 ± 7.1 (30.0-40.0) | 42.0 ± 2.8 "
        + "(40.0-44.0) | 25.0 ± 7.1 (20.0-30.0) |", lines.get(4));
    assertEquals("| lambda fusion | 1 | 120 | 8.00 | 0.400 | 620 | 5.0 | 25.0 | 38.0 | 10.0 |", lines.get(5));
    assertEquals("| lambda-fusion | 1 | 120 | 8.00 | 0.400 | 620 | 5.0 | 25.0 | 38.0 | 10.0 | 110 |",
        lines.get(lines.size() - 1));
    FixedComputeQuality.Settings s = new FixedComputeQuality.Settings(1e12, 2, 40, 1, 1, 10, 10, 4);
    assertTrue(FixedComputeQuality.header(s, 3, 4).startsWith("PARTIAL: 3 of 4 runs done. Downstream quality"));
    assertTrue(FixedComputeQuality.header(s, 4, 4).startsWith("Downstream quality at a fixed pretraining budget of "
        + "1.00 TFLOP"));
    BufferedImage png = ImageIO.read(tmp.resolve("quality.png").toFile());
    for (int k = 0; k < 2; k++) assertTrue(hasColour(png, LinePlot.COLOURS.get(k).getRGB()), "variant " + k);
    assertFalse(hasColour(png, LinePlot.COLOURS.get(2).getRGB()), "only two variants");
  }

  @Test
  void aTinyBudgetRunsEveryStepEndToEnd() throws Exception {
    List<FixedComputeQuality.Variant> variants = FixedComputeQuality.select(
        FixedComputeQuality.variants(PretrainConfig.modelConfig("model-demo")), List.of("mplug", "lambda-both"));
    double budget = 2.5e10;   // about two demo steps of batch 24
    FixedComputeQuality.Settings s = new FixedComputeQuality.Settings(budget, 1, 40, 1, 1, 10, 10, 4);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    List<FixedComputeQuality.Run> runs = FixedComputeQuality.run(variants, s, tmp, new PrintStream(log));
    assertEquals(2, runs.size(), log.toString());
    for (FixedComputeQuality.Run r : runs) {
      assertEquals(FixedComputeQuality.stepsFor(budget, r.gflopsPerStep() * 1e9), r.steps(), r.toString());
      assertTrue(r.secondsPerStep() > 0 && r.peakMib() > 0, r.toString());
      for (double pct : new double[] {r.retrievalR1(), r.retrievalR5(), r.vqaAccuracy()}) {
        assertTrue(pct >= 0 && pct <= 100, r.toString());
      }
      assertTrue(r.retrievalR5() >= r.retrievalR1(), r.toString());
      assertTrue(r.cider() >= 0, r.toString());
      assertTrue(Files.isDirectory(tmp.resolve("runs").resolve(r.variant() + "-seed1").resolve("vqa")));
    }
    // lambda layers in the ViT and the connected layer cost fewer FLOPs per step, so the budget buys no fewer steps
    assertTrue(runs.get(1).gflopsPerStep() < runs.get(0).gflopsPerStep(), runs.toString());
    assertTrue(runs.get(1).steps() >= runs.get(0).steps(), runs.toString());
    String table = Files.readString(tmp.resolve("table.md"));
    assertTrue(table.startsWith("Downstream quality at a fixed pretraining budget of 0.0250 TFLOP"), table);
    assertTrue(table.contains("| lambda both | 1 |"), table);
    assertTrue(Files.size(tmp.resolve("quality.png")) > 0);
  }

  private static boolean hasColour(BufferedImage image, int rgb) {
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if (image.getRGB(x, y) == rgb) return true;
      }
    }
    return false;
  }
}
