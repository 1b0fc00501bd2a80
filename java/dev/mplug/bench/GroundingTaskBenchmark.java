package dev.mplug.bench;

import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.grounding.BoxTokens;
import dev.mplug.task.grounding.GroundingHead;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.io.PrintStream;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Grounding inference speed ({@code mplug bench --task grounding}): referring expressions per second through the
 * whole task, i.e. ViT, text encoder, fusion and four greedy decoding steps over the box tokens, with the decoder's
 * key/value cache and without it (the reference path re-runs the prefix each step). Random weights, random images
 * and 12-token expressions; eval mode, no gradients. Rows: model-demo and model-base-256 at batch 1 and 16; a row
 * whose first (warm-up) batch takes more than {@value #MAX_ROW_SECONDS} s is reported as skipped.
 */
public final class GroundingTaskBenchmark {
  static final double MAX_ROW_SECONDS = 60;
  /** Timed batches run until this much time has passed (at least {@value #MIN_RUNS} of them). */
  static final double MEASURE_SECONDS = 3;
  static final int MIN_RUNS = 2;
  static final int EXPRESSION_TOKENS = 12;
  /** bert-base-uncased's [unused339] and [unused340]. */
  static final BoxTokens BERT_BASE_BOX_TOKENS = new BoxTokens(344, 345);

  private GroundingTaskBenchmark() {}

  public static void run(PrintStream out, int threads) {
    TorchRuntime.load();
    TorchRuntime.setThreads(threads);
    TorchRuntime.seed(0);
    out.printf(Locale.ROOT, "%n### Grounding inference (%d thread%s, fp32, random weights)%n%n", threads,
        threads == 1 ? "" : "s");
    out.println("| model | batch | expressions/s (KV cache) | expressions/s (no cache) | ms per batch (KV cache) |");
    out.println("| --- | ---: | ---: | ---: | ---: |");
    for (String name : List.of("model-demo", "model-base-256")) {
      MPlugConfig config = PretrainConfig.modelConfig(name)
          .withParts(EnumSet.of(Part.VISION, Part.TEXT_ENCODER, Part.FUSION, Part.DECODER));
      MPlug model = new MPlug(config);
      model.eval();
      GroundingHead head = new GroundingHead(model, BERT_BASE_BOX_TOKENS, GroundingHead.Weights.OFFICIAL);
      for (int batch : new int[] {1, 16}) {
        out.println(row(name, head, batch));
        out.flush();
      }
    }
  }

  private static String row(String name, GroundingHead head, int batch) {
    try (TensorScope _ = TensorScope.open()) {
      int res = head.model().config().vision().imageRes();
      Tensor images = torch.randn(new long[] {batch, 3, res, res});                                 // [B, 3, R, R]
      Tensor ids = torch.randint(1000, head.model().config().text().vocab(),
          new long[] {batch, EXPRESSION_TOKENS}).to(torch.ScalarType.Long);                        // [B, T]
      Tensor mask = torch.ones(new long[] {batch, EXPRESSION_TOKENS}).to(torch.ScalarType.Long);  // [B, T]
      double warmUp = seconds(head, images, ids, mask, true);
      if (warmUp > MAX_ROW_SECONDS) {
        return String.format(Locale.ROOT, "| %s | %d | skipped: one batch took %.0f s | | |", name, batch, warmUp);
      }
      double cached = perBatch(head, images, ids, mask, true);
      double uncached = perBatch(head, images, ids, mask, false);
      return String.format(Locale.ROOT, "| %s | %d | %.3g | %.3g | %.0f |", name, batch, batch / cached,
          batch / uncached, 1000 * cached);
    }
  }

  /** Mean seconds per batch over at least {@link #MIN_RUNS} runs and {@link #MEASURE_SECONDS}. */
  private static double perBatch(GroundingHead head, Tensor images, Tensor ids, Tensor mask, boolean cached) {
    double total = 0;
    int runs = 0;
    while (runs < MIN_RUNS || total < MEASURE_SECONDS) {
      total += seconds(head, images, ids, mask, cached);
      runs++;
    }
    return total / runs;
  }

  private static double seconds(GroundingHead head, Tensor images, Tensor ids, Tensor mask, boolean cached) {
    long t0 = System.nanoTime();
    try (TensorScope _ = TensorScope.open()) {
      head.decode(images, ids, mask, cached);
    }
    return (System.nanoTime() - t0) / 1e9;
  }
}
