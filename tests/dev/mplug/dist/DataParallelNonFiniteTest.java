package dev.mplug.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step whose loss is not finite on one rank only is skipped by every rank ({@code dev.mplug.train.NonFiniteWorker}):
 * the logged (mean) loss is NaN on both, both count one skipped step, and they end with the same weights.
 */
class DataParallelNonFiniteTest {
  @TempDir Path tmp;

  @Test
  void aNonFiniteStepOnOneRankIsSkippedByAll() {
    Ranks.Outcome r = Ranks.launch(2, Ranks.freePort(),
        Ranks.java("dev.mplug.train.NonFiniteWorker", tmp.toString()), Map.of());
    assertEquals(0, r.status(), r.output() + r.errors());
    Pattern line = Pattern.compile("\\[rank (\\d)] skipped=(\\d+) losses=\\[([^]]*)] weight=(\\[[^]]*])");
    Matcher m = line.matcher(r.output());
    String[] losses = new String[2];
    String[] weights = new String[2];
    while (m.find()) {
      int rank = Integer.parseInt(m.group(1));
      assertEquals("1", m.group(2), "rank " + rank + " skipped one step\n" + r.output());
      losses[rank] = m.group(3);
      weights[rank] = m.group(4);
    }
    assertEquals(losses[0], losses[1], "the logged losses are the means over the ranks");
    assertTrue(losses[0].split(", ")[1].equals("NaN") && !losses[0].split(", ")[2].equals("NaN"), losses[0]);
    assertEquals(weights[0], weights[1], "the ranks stay identical");
  }
}
