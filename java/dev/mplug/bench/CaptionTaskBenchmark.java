package dev.mplug.bench;

import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.GenerationConfig;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
import dev.mplug.task.caption.CaptionBatch;
import dev.mplug.task.caption.CaptionHead;
import dev.mplug.task.caption.CaptionTraining;
import dev.mplug.task.caption.SelfCriticalTraining;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import dev.mplug.train.TrainingTask;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Captioning speed with random weights and synthetic images: beam-search captions per second (the official COCO
 * decoding: beam 5, 8 to 25 tokens) at batch 1 and 16, with the key/value cache and without it (the official code
 * re-runs the whole prefix every step), and the time of one self-critical training step (5 beams per image generated,
 * re-scored with gradients, backward) against one cross-entropy step (forward + backward) on the same batch, at the
 * demo size and at mPLUG-base (256 px). Random weights rarely choose [SEP], so most hypotheses run to the 25-token
 * limit: the figures are close to the worst case of a trained model. A base row that would take over a minute on this
 * machine is skipped (each base figure is one timed run after one warm-up).
 */
public final class CaptionTaskBenchmark {
  private static final double SKIP_SECONDS = 60;

  private CaptionTaskBenchmark() {}

  public static void run(PrintStream out, int threads) {
    TorchRuntime.load();
    TorchRuntime.setThreads(threads);
    out.printf(Locale.ROOT, "%n## Captioning (%d thread%s, random weights, beam 5, 8-25 tokens)%n%n", threads,
        threads == 1 ? "" : "s");
    out.println("| model | batch | KV cache | captions/s | s per batch |");
    out.println("| --- | ---: | --- | ---: | ---: |");
    List<String[]> steps = new ArrayList<>();
    for (String name : List.of("model-demo", "model-base-256")) {
      boolean quick = name.equals("model-demo");
      TorchRuntime.seed(0);
      MPlugConfig config = PretrainConfig.modelConfig(name).withParts(Part.caption());
      MPlug model = new MPlug(config);
      BertTokenizer tokenizer = syntheticTokenizer(config.text().vocab());
      Vocabulary v = tokenizer.vocabulary();
      CaptionHead head = new CaptionHead(model, new GenerationConfig(5, 8, 25, v.clsId(), v.sepId(), 0.6));
      int res = config.vision().imageRes();
      boolean skipping = false;
      for (int batch : new int[] {1, 16}) {
        for (boolean cached : new boolean[] {true, false}) {
          if (skipping) {
            out.printf(Locale.ROOT, "| %s | %d | %s | skipped (a row over %.0f s) | |%n", name, batch,
                cached ? "yes" : "no", SKIP_SECONDS);
            continue;
          }
          double s = seconds(quick ? 3 : 1, () -> generate(head, batch, res, cached));
          out.printf(Locale.ROOT, "| %s | %d | %s | %.2f | %.3f |%n", name, batch, cached ? "yes" : "no", batch / s, s);
          skipping = !quick && s > SKIP_SECONDS;
        }
      }
      int batch = quick ? 16 : 4;
      CaptionBatch b = syntheticBatch(batch, res, v);
      try (TrainingTask<CaptionBatch> ce = new CaptionTraining(head);
          TrainingTask<CaptionBatch> scst = new SelfCriticalTraining(head, tokenizer, references(batch), 5)) {
        double ceSeconds = seconds(quick ? 3 : 1, () -> step(ce, b));
        double scstSeconds = skipping ? Double.NaN : seconds(quick ? 3 : 1, () -> step(scst, b));
        steps.add(new String[] {name, Integer.toString(batch), String.format(Locale.ROOT, "%.3f", ceSeconds),
            Double.isNaN(scstSeconds) ? "skipped" : String.format(Locale.ROOT, "%.3f", scstSeconds),
            Double.isNaN(scstSeconds) ? "" : String.format(Locale.ROOT, "%.1fx", scstSeconds / ceSeconds)});
      }
    }
    out.println();
    out.println("| model | batch | CE step s | SCST step s (5 beams) | SCST / CE |");
    out.println("| --- | ---: | ---: | ---: | ---: |");
    for (String[] r : steps) out.printf("| %s | %s | %s | %s | %s |%n", (Object[]) r);
  }

  private static void generate(CaptionHead head, int batch, int res, boolean cached) {
    head.model().eval();
    try (TensorScope _ = TensorScope.open(); NoGradGuard _ = new NoGradGuard()) {
      head.generate(head.imageStates(torch.randn(batch, 3, res, res)), cached);
    }
  }

  /** One micro-batch's losses and backward (the optimizer update is the same for both objectives, so left out). */
  private static void step(TrainingTask<CaptionBatch> task, CaptionBatch batch) {
    try (TensorScope _ = TensorScope.open()) {
      Tensor sum = null;
      for (Tensor loss : task.losses(batch, 0).values()) sum = sum == null ? loss : sum.add(loss);
      sum.backward();
      for (Tensor p : task.parameters().values()) {
        if (p.grad().defined()) p.grad().zero_();
      }
    }
  }

  /** Mean seconds over {@code reps} runs after one warm-up. */
  private static double seconds(int reps, Runnable r) {
    r.run();
    long t0 = System.nanoTime();
    for (int i = 0; i < reps; i++) r.run();
    return (System.nanoTime() - t0) / 1e9 / reps;
  }

  /** A vocabulary of the model's size: the special tokens, then words w5, w6, ... */
  private static BertTokenizer syntheticTokenizer(int size) {
    List<String> tokens = new ArrayList<>(Vocabulary.SPECIALS);
    for (int i = tokens.size(); i < size; i++) tokens.add("w" + i);
    return new BertTokenizer(Vocabulary.of(tokens));
  }

  /** Random images and 12-token captions ([CLS] 10 words [SEP]) for image ids 0..B-1. */
  private static CaptionBatch syntheticBatch(int batch, int res, Vocabulary v) {
    Tensor ids = torch.randint(Vocabulary.SPECIALS.size(), v.size(), new long[] {batch, 12})
        .to(torch.ScalarType.Long);                                                        // [B, 12]
    ids.select(1, 0).fill_(new Scalar(v.clsId()));
    ids.select(1, 11).fill_(new Scalar(v.sepId()));
    List<String> imageIds = new ArrayList<>();
    for (int i = 0; i < batch; i++) imageIds.add(Integer.toString(i));
    return new CaptionBatch(torch.randn(batch, 3, res, res), ids, torch.ones_like(ids), imageIds);
  }

  /** Five references per image id, made of the synthetic words. */
  private static Map<String, List<String>> references(int batch) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (int i = 0; i < batch; i++) {
      List<String> refs = new ArrayList<>();
      for (int r = 0; r < 5; r++) refs.add("w" + (10 + i) + " w" + (20 + r) + " w" + (30 + i + r) + " w40 w41");
      out.put(Integer.toString(i), refs);
    }
    return out;
  }
}
