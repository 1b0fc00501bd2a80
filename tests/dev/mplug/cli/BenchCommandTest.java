package dev.mplug.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.nn.FusedAttention;
import dev.mplug.task.pretrain.PretrainBatch;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `mplug bench` on the demo-size model: full pretraining steps timed, with throughput and MFU in the table. */
class BenchCommandTest {
  private static final Pattern SUMMARY = Pattern.compile(
      "\\| (fp32|bf16) \\| (NATIVE|COMPOSITE) \\| auto \\| ([0-9.]+) \\| ([0-9.]+) \\| ([0-9.]+) \\| ([0-9.]+)% \\|");

  @Test
  void timesBothPrecisionsInOneRunAndReportsTheirRatio() {
    String out = InfoCommandTest.runCapturing("bench", "--model", "model-demo", "--batch", "4", "--steps", "2",
        "--warmup", "1", "--threads", "1", "--precision", "fp32,bf16");
    assertTrue(out.contains("| 1 (warm-up) | fp32 |") && out.contains("| 3 | bf16 |"), out);
    Matcher fp32Rate = Pattern.compile("fp32 matmul rate ([0-9.]+) GFLOP/s").matcher(out);
    Matcher bf16Rate = Pattern.compile("bf16 matmul rate ([0-9.]+) GFLOP/s").matcher(out);
    assertTrue(fp32Rate.find() && bf16Rate.find(), out);
    Matcher m = SUMMARY.matcher(out);
    double[] seconds = new double[2];
    for (int i = 0; i < 2; i++) {
      assertTrue(m.find(), out);
      assertEquals(i == 0 ? "fp32" : "bf16", m.group(1));
      assertEquals(i == 0 ? "NATIVE" : "COMPOSITE", m.group(2), "auto: native in fp32, composite under autocast");
      seconds[i] = Double.parseDouble(m.group(3));
      double samples = Double.parseDouble(m.group(4));
      // seconds printed with 2 decimals: within 0.005 of the true median, which moves batch / seconds by up to this
      double rounding = 4 * 0.005 / (seconds[i] * (seconds[i] - 0.005)) + 0.005;
      assertEquals(4 / seconds[i], samples, Math.max(0.05 * samples + 0.01, rounding), "samples/s = batch / seconds");
      double peak = Double.parseDouble((i == 0 ? fp32Rate : bf16Rate).group(1));
      assertEquals(Double.parseDouble(m.group(5)), peak, 0.051, "MFU is against the precision's own matmul rate");
      assertTrue(Double.parseDouble(m.group(6)) > 0, out);
    }
    Matcher ratio = Pattern.compile("bf16 / fp32 samples/s: ([0-9.]+)x").matcher(out);
    assertTrue(ratio.find(), out);
    // the table prints seconds and the ratio with 2 decimals: each printed second is within 0.005 of the true one
    double r = seconds[0] / seconds[1];
    double rounding = r * (0.005 / seconds[0] + 0.005 / seconds[1]) + 0.005;
    assertEquals(r, Double.parseDouble(ratio.group(1)), rounding + 1e-9, out);
  }

  @Test
  void fusedAndCompositeFusionAttentionInterleavedInOneRun() {
    FusedAttention.Mode mode = FusedAttention.current();
    long fusedBefore = FusedAttention.calls();
    String out = InfoCommandTest.runCapturing("bench", "--model", "model-demo", "--batch", "4", "--steps", "1",
        "--warmup", "0", "--threads", "1", "--precision", "fp32", "--fusion-attention", "fused,composite");
    assertTrue(out.contains("| 1 | fp32 | NATIVE | fused |") && out.contains("| 1 | fp32 | NATIVE | composite |"), out);
    assertTrue(FusedAttention.calls() > fusedBefore, "the fused arm ran the fused kernels");
    Matcher ratio = Pattern.compile("fused / composite samples/s \\(fp32\\): ([0-9.]+)x").matcher(out);
    assertTrue(ratio.find() && Double.parseDouble(ratio.group(1)) > 0, out);
    assertEquals(mode, FusedAttention.current(), "the process-wide mode is restored");
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
    assertEquals(2, Main.run("bench", "--precision", "fp16"));
    assertEquals(2, Main.run("bench", "--attention", "flash"));
  }
}
