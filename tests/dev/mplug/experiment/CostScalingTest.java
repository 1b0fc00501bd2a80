package dev.mplug.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.model.MPlugConfig;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scaling experiment on the tiny model at two image sizes: its rows, table and plots. */
class CostScalingTest {
  @TempDir Path tmp;

  @Test
  void everyVariantIsMeasuredAtEverySizeAndWrittenAsTableAndPlots() throws Exception {
    List<CostScaling.Variant> variants = CostScaling.variants(MPlugConfig.tiny());
    assertEquals(List.of("mplug (stride 2)", "connected everywhere", "co-attention only", "lambda fusion",
        "lambda vision (7x7)", "lambda both"), variants.stream().map(CostScaling.Variant::name).toList());
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    List<CostScaling.Row> rows = CostScaling.run(variants, new int[] {16, 32}, 2, 0, 1, 3, new PrintStream(log));
    assertEquals(12, rows.size());
    for (CostScaling.Row r : rows) {
      assertTrue(r.cpuSeconds() > 0 && r.gflops() > 0, r.toString());
      assertEquals(r.imageRes() == 16 ? 5 : 17, r.visualTokens(), r.toString());   // 2x2 / 4x4 patches + class token
    }
    // FLOPs grow with the visual sequence for every variant; connected attention everywhere costs the most, and a
    // lambda layer in the connected layer costs less than the attention it replaces
    for (int i = 0; i < rows.size(); i += 2) assertTrue(rows.get(i + 1).gflops() > rows.get(i).gflops());
    double mplug = rows.get(1).gflops(), everywhere = rows.get(3).gflops(), coOnly = rows.get(5).gflops();
    double lambdaFusion = rows.get(7).gflops();
    assertTrue(everywhere > mplug && mplug > coOnly, everywhere + " > " + mplug + " > " + coOnly);
    assertTrue(lambdaFusion < mplug, lambdaFusion + " < " + mplug);

    CostScaling.write(tmp, rows, "test run");
    String table = Files.readString(tmp.resolve("table.md"));
    assertTrue(table.startsWith("test run\n\n| variant | image px |"), table);
    assertEquals(2 + 2 + 12, table.split("\n").length, table);
    for (String png : List.of("time.png", "flops.png")) {
      BufferedImage image = ImageIO.read(tmp.resolve(png).toFile());
      assertEquals(900, image.getWidth(), png);
      // every series' colour is drawn
      for (int k = 0; k < variants.size(); k++) {
        int rgb = LinePlot.COLOURS.get(k).getRGB();
        boolean found = false;
        for (int y = 0; y < image.getHeight() && !found; y++) {
          for (int x = 0; x < image.getWidth() && !found; x++) found = image.getRGB(x, y) == rgb;
        }
        assertTrue(found, png + ": series " + k);
      }
    }
  }
}
