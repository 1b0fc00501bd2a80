package dev.mplug.data.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.BadSampleException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Distinct bad samples and substitutions are counted apart; the limit is on distinct samples over the dataset. */
class BadSampleLogTest {
  private static List<BadSampleException> bad(int... files) {
    List<BadSampleException> out = new ArrayList<>();
    for (int f : files) out.add(new BadSampleException("img/" + f + ".jpg", "truncated JPEG"));
    return out;
  }

  @Test
  void sixDamagedFilesOverThreeEpochsAreSixDistinctAndEighteenSubstitutions() {
    List<String> reports = new ArrayList<>();
    var log = new BadSampleLog(0.1, 0, 100, reports::add);   // 6 of 100 bad: under the 10% limit
    for (int epoch = 0; epoch < 3; epoch++) {
      log.account(50, bad(1, 2, 3), false);
      log.account(50, bad(4, 5, 6), true);
    }
    assertEquals(6, log.distinct());
    assertEquals(18, log.substitutions());
    assertEquals(300, log.delivered());
    assertEquals(6, reports.size(), "each damaged file reported once");
    assertEquals("bad sample img/6.jpg: truncated JPEG (replaced; 6 distinct bad so far)", reports.get(5));
  }

  @Test
  void theLimitIsOnDistinctSamplesOverTheDatasetNotOnRepeats() {
    // 5 of 100 samples bad, limit 5%: never stops, however often the same 5 are met
    var tolerated = new BadSampleLog(0.05, 0, 100, m -> { });
    for (int epoch = 0; epoch < 10; epoch++) tolerated.account(100, bad(1, 2, 3, 4, 5), true);
    assertEquals(50, tolerated.substitutions());
    // a sixth distinct bad sample exceeds 5% of 100 and stops the run at once
    var log = new BadSampleLog(0.05, 0, 100, m -> { });
    log.account(10, bad(1, 2, 3, 4, 5), false);
    log.account(10, bad(1, 2, 3, 4, 5), false);
    var e = assertThrows(TooManyBadSamplesException.class, () -> log.account(10, bad(6), false));
    assertEquals("stopping: 6 distinct samples of the 100 in the dataset (6.0%) were bad, more than the allowed 5.0% "
        + "(maxBadFraction 0.05); 11 substitutions in 30 delivered samples; last: img/6.jpg: truncated JPEG",
        e.getMessage());
  }

  @Test
  void theCheckWaitsForTheGraceOrTheEpochEnd() {
    var log = new BadSampleLog(0.0, 20, 100, m -> { });
    log.account(10, bad(1), false);                        // 10 < 20 delivered: not yet checked
    assertEquals(1, log.distinct());
    var e = assertThrows(TooManyBadSamplesException.class, () -> log.account(5, bad(), true));
    assertTrue(e.getMessage().startsWith("stopping: 1 distinct samples of the 100"), e.getMessage());
  }
}
