package dev.mplug.bench;

import dev.mplug.model.GenerationConfig;
import dev.mplug.model.Hypothesis;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.vqa.VqaHead;
import dev.mplug.task.vqa.VqaSettings;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * VQA inference speed: answers per second of the whole answer path (ViT, text encoder, fusion, beam search of beam 5
 * and at most 10 tokens, the official inference) at batch 1 and 16, with and without the decoder's key/value cache,
 * at the model-demo and model-base-256 sizes. Random weights, random images and 12-token questions; random weights
 * rarely end an answer early, so most answers run the full 10 steps (the table gives the mean generated length). A
 * row whose estimate from the batch-1 row exceeds a minute is skipped and says so.
 */
public final class VqaTaskBenchmark {
  private static final double ROW_LIMIT_SECONDS = 60;
  private static final double MIN_SECONDS_PER_ROW = 2;
  private static final int QUESTION_TOKENS = 12;

  private VqaTaskBenchmark() {}

  public static void run(PrintStream out, int threads) {
    TorchRuntime.load();
    TorchRuntime.setThreads(threads);
    out.printf(Locale.ROOT, "VQA answers/s (beam 5, at most 10 tokens, random weights), %d thread%s%n%n", threads,
        threads == 1 ? "" : "s");
    out.println("| model | batch | KV cache | answers/s | ms/answer | generated tokens/answer |");
    out.println("| --- | ---: | --- | ---: | ---: | ---: |");
    for (String spec : List.of("model-demo", "model-base-256")) {
      MPlugConfig c = PretrainConfig.modelConfig(spec).withParts(Part.vqa());
      torch.manual_seed(0);
      MPlug model = new MPlug(c);
      model.eval();
      VqaHead head = new VqaHead(model, c.text().padTokenId());
      GenerationConfig g = new VqaSettings(5, 10, null, VqaSettings.DEFAULT_ANSWER_LIST_K)
          .generation(c.generation(), c.generation().startToken(), c.generation().endToken());
      for (boolean cached : new boolean[] {true, false}) {
        double perAnswer = 0;
        for (int batch : new int[] {1, 16}) {
          if (perAnswer * batch > ROW_LIMIT_SECONDS) {
            out.printf(Locale.ROOT, "| %s | %d | %s | skipped: about %.0f s per batch | | |%n", spec, batch,
                cached ? "yes" : "no", perAnswer * batch);
            continue;
          }
          Row r = measure(head, g, batch, cached);
          perAnswer = r.seconds() / r.answers();
          out.printf(Locale.ROOT, "| %s | %d | %s | %.2f | %.1f | %.1f |%n", spec, batch, cached ? "yes" : "no",
              r.answers() / r.seconds(), 1000 * perAnswer, (double) r.tokens() / r.answers());
        }
      }
    }
  }

  private record Row(long answers, long tokens, double seconds) {}

  /** Answers batches until {@link #MIN_SECONDS_PER_ROW} have passed (after one untimed batch when that is cheap). */
  private static Row measure(VqaHead head, GenerationConfig g, int batch, boolean cached) {
    MPlugConfig c = head.model().config();
    long answers = 0;
    long tokens = 0;
    long elapsed = 0;
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      int res = c.vision().imageRes();
      Tensor images = torch.randn(batch, 3, res, res);                                  // [B, 3, R, R]
      Tensor ids = torch.randint(1000, c.text().vocab(), new long[] {batch, QUESTION_TOKENS}); // [B, T]
      ids.select(1, 0).fill_(new Scalar(g.startToken()));
      ids.select(1, QUESTION_TOKENS - 1).fill_(new Scalar(g.endToken()));
      Tensor mask = torch.ones(batch, QUESTION_TOKENS).to(torch.ScalarType.Long);       // [B, T]
      if (batch == 1) answer(head, g, images, ids, mask, cached);                         // warm-up
      while (elapsed < MIN_SECONDS_PER_ROW * 1e9) {
        long t0 = System.nanoTime();
        tokens += answer(head, g, images, ids, mask, cached);
        elapsed += System.nanoTime() - t0;
        answers += batch;
      }
    }
    return new Row(answers, tokens, elapsed / 1e9);
  }

  /** One batch answered; returns the tokens generated for the best answers. */
  private static long answer(VqaHead head, GenerationConfig g, Tensor images, Tensor ids, Tensor mask,
      boolean cached) {
    try (TensorScope _ = TensorScope.open()) {
      List<List<Hypothesis>> beams = head.generate(head.encode(images, ids, mask), g, cached);
      return beams.stream().mapToLong(h -> h.isEmpty() ? 0 : h.get(0).length() - 1).sum();
    }
  }
}
