package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.task.pretrain.PretrainBatch;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.List;
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
  void syntheticCaptionsAndIdsComeFromOneVocabulary() {
    Vocabulary v = BenchCommand.syntheticVocabulary(200);
    assertEquals(200, v.size());
    assertEquals(List.of(0, 100, 101, 102, 103), List.of(v.padId(), v.unkId(), v.clsId(), v.sepId(), v.maskId()));
    BertTokenizer tok = new BertTokenizer(v);
    try (TensorScope _ = TensorScope.open(); var data = new BenchCommand.SyntheticBatches(3, 8, 6, v)) {
      PretrainBatch b = data.next();
      long[] ids = Tensors.toLongs(b.ids());
      for (int i = 0; i < 3; i++) {
        int[] expected = tok.encode(b.captions().get(i), 6).ids();
        for (int t = 0; t < 6; t++) assertEquals(expected[t], ids[i * 6 + t], "caption " + i + " token " + t);
      }
    }
  }

  @Test
  void rejectsImpossibleArguments() {
    assertEquals(2, Main.run("bench", "--batch", "1"));
  }
}
