package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `mplug bench` on the demo-size model: full pretraining steps timed, with throughput and MFU in the table. */
class BenchCommandTest {
  @Test
  void timesPretrainingStepsAndReportsMfu() {
    String out = InfoCommandTest.runCapturing("bench", "--model", "model-demo", "--batch", "4", "--steps", "2",
        "--warmup", "1", "--threads", "1");
    assertTrue(out.contains("| 1 (warm-up) |") && out.contains("| 3 |"), out);
    Matcher m = Pattern.compile("median of 2 timed steps: ([0-9.]+) s/step, ([0-9.]+) samples/s, MFU ([0-9.]+)%")
        .matcher(out);
    assertTrue(m.find(), out);
    double seconds = Double.parseDouble(m.group(1));
    double samples = Double.parseDouble(m.group(2));
    assertTrue(seconds > 0 && Double.parseDouble(m.group(3)) > 0, out);
    assertEquals(4 / seconds, samples, 0.05 * samples + 0.01, "samples/s = batch / seconds");
  }

  @Test
  void rejectsImpossibleArguments() {
    assertEquals(2, Main.run("bench", "--batch", "1"));
  }
}
