package dev.mplug.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.retrieval.RetrievalRanking;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * What the retrieval evaluation costs: 1,000 images x 5,000 texts (5 captions each, 30 tokens), k = 128 candidates
 * re-ranked per query, random weights. Columns: encoding every image and text, the ITC part (similarity chunks, top-k,
 * ranks) and the ITM part (the fusion forward of (1,000 + 5,000) x 128 pairs), and the memory the chunked ranking
 * adds: measured as the growth of the process's peak resident memory during the ranking (Linux: the peak is reset
 * through /proc/self/clear_refs first), beside the whole-matrix size the official code holds (ITC similarities plus
 * two score matrices). The process CPU seconds of a measured run show how much of its wall time it had a CPU.
 *
 * <p>A size whose full run would take more than 5 minutes (estimated from a probe: 4 images, 16 texts and 16 ITM
 * pairs) is reported as an estimate from a measured 100 x 500 run, or, when even that would exceed 5 minutes, from
 * the probe alone; the note column says which.
 */
public final class RetrievalTaskBenchmark {
  private static final int IMAGES = 1000;
  private static final int CAPTIONS_PER_IMAGE = 5;
  private static final int TOKENS = 30;
  private static final int K = 128;
  private static final int CHUNK = 256;
  private static final int ITM_BATCH = 128;
  private static final double LIMIT_S = 300;

  private RetrievalTaskBenchmark() {}

  /** One row: seconds by part (measured or estimated), the peak memory growth (-1 = not measured). */
  private record Row(String model, int images, int texts, double encodeS, double itcS, double itmS, double cpuS,
      long extraBytes, String note) {}

  /** Seconds per image and per text through the encoders, per ITM pair, per ITC query-candidate. */
  private record Rates(double image, double text, double pair, double itcCell) {
    double seconds(int images, int texts) {
      double pairs = (double) (images + texts) * Math.min(K, Math.min(images, texts));
      return images * image + texts * text + pairs * pair + 2.0 * images * texts * itcCell;
    }
  }

  public static void run(PrintStream out, int threads) {
    TorchRuntime.setThreads(threads);
    out.printf("### Retrieval evaluation: %d images x %d texts, k = %d, chunk %d queries, ITM sub-batch %d pairs, "
        + "%d thread(s), random weights%n%n", IMAGES, IMAGES * CAPTIONS_PER_IMAGE, K, CHUNK, ITM_BATCH, threads);
    out.println("| model | measured on | encode s | ITC s | ITM s | total s | process CPU s | peak extra memory |"
        + " whole matrices | note |");
    out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (String name : List.of("model-demo", "model-base-256")) out.println(format(measure(name)));
    out.println();
  }

  private static Row measure(String name) {
    MPlugConfig config = PretrainConfig.modelConfig(name).withParts(EnumSet.copyOf(RetrievalHead.PARTS));
    TorchRuntime.seed(0);
    try (TensorScope scope = TensorScope.open(); NoGradGuard guard = new NoGradGuard()) {
      MPlug model = new MPlug(config);
      model.eval();
      RetrievalHead head = new RetrievalHead(model);
      Rates rates = probe(head);
      int texts = IMAGES * CAPTIONS_PER_IMAGE;
      if (rates.seconds(IMAGES, texts) <= LIMIT_S) return measured(name, head, IMAGES);
      if (rates.seconds(IMAGES / 10, texts / 10) <= LIMIT_S) {
        Row small = measured(name, head, IMAGES / 10);
        double pairScale = (double) (IMAGES + texts) / (IMAGES / 10 + texts / 10);   // 10 (k fixed)
        double cellScale = (double) IMAGES * texts / ((double) (IMAGES / 10) * (texts / 10));   // 100
        return new Row(name, IMAGES, texts, small.encodeS() * 10, small.itcS() * cellScale, small.itmS() * pairScale,
            small.cpuS() * pairScale, -1, "estimated from the measured 100 x 500 run (" + seconds(small.itcS()) + " / "
            + seconds(small.itmS()) + " s ITC / ITM; peak extra memory there " + bytes(small.extraBytes()) + ")");
      }
      double pairs = (double) (IMAGES + texts) * K;
      return new Row(name, IMAGES, texts, IMAGES * rates.image() + texts * rates.text(),
          2.0 * IMAGES * texts * rates.itcCell(), pairs * rates.pair(), -1, -1,
          String.format("estimated from a probe (%.3f s per 1,000 ITM pairs); a 100 x 500 run would take %.0f s",
              rates.pair() * 1000, rates.seconds(IMAGES / 10, texts / 10)));
    }
  }

  /** A few images, texts and ITM pairs, timed after one untimed pass (small enough for mPLUG-base on one core). */
  private static Rates probe(RetrievalHead head) {
    probeOnce(head);
    return probeOnce(head);
  }

  private static Rates probeOnce(RetrievalHead head) {
    int res = head.model().config().vision().imageRes();
    int pairs = 16;
    try (TensorScope scope = TensorScope.open()) {
      long t0 = System.nanoTime();
      RetrievalHead.Images images = head.images(torch.randn(4, 3, res, res));
      long t1 = System.nanoTime();
      RetrievalHead.Texts texts = texts(head, 16);
      long t2 = System.nanoTime();
      long[] im = new long[pairs];
      long[] tx = new long[pairs];
      for (int p = 0; p < pairs; p++) {
        im[p] = p % 4;
        tx[p] = p;
      }
      Tensor idx = Tensors.longs(im, pairs);
      Tensor tdx = Tensors.longs(tx, pairs);
      head.matchScores(images.embeds().index_select(0, idx), texts.embeds().index_select(0, tdx),
          texts.mask().index_select(0, tdx));
      long t3 = System.nanoTime();
      long e = head.model().config().embedDim();
      torch.randn(CHUNK, e).matmul(torch.randn(5000, e).t()).topk(K, 1, true, true);   // [CHUNK, 5000] -> top k
      long t4 = System.nanoTime();
      // + about 2 ns per cell for the copy and the rank count over each row
      return new Rates((t1 - t0) / 4e9, (t2 - t1) / 16e9, (t3 - t2) / 1e9 / pairs,
          (t4 - t3) / 1e9 / ((double) CHUNK * 5000) + 2e-9);
    }
  }

  /** Encodes {@code n} random images and 5n random captions, then ranks them chunk by chunk, timed. */
  private static Row measured(String name, RetrievalHead head, int n) {
    int m = n * CAPTIONS_PER_IMAGE;
    int res = head.model().config().vision().imageRes();
    try (TensorScope scope = TensorScope.open()) {
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      List<Tensor> embeds = new ArrayList<>();
      List<Tensor> features = new ArrayList<>();
      for (int start = 0; start < n; start += 32) {
        RetrievalHead.Images part = head.images(torch.randn(Math.min(32, n - start), 3, res, res));
        embeds.add(part.embeds());
        features.add(part.features());
      }
      RetrievalHead.Images images = new RetrievalHead.Images(torch.cat(new TensorVector(
          embeds.toArray(new Tensor[0])), 0), torch.cat(new TensorVector(
          features.toArray(new Tensor[0])), 0));
      RetrievalHead.Texts texts = texts(head, m);
      double encode = (System.nanoTime() - t0) / 1e9;
      List<int[]> textsOfImage = new ArrayList<>();
      int[] imageOfText = new int[m];
      for (int i = 0; i < n; i++) {
        int[] mine = new int[CAPTIONS_PER_IMAGE];
        for (int c = 0; c < mine.length; c++) {
          mine[c] = i * CAPTIONS_PER_IMAGE + c;
          imageOfText[mine[c]] = i;
        }
        textsOfImage.add(mine);
      }
      long before = residentBytes("VmRSS");
      boolean reset = resetPeak();
      RetrievalRanking.Result r = RetrievalRanking.rank(head, images, texts,
          new RetrievalRanking.Gold(textsOfImage, imageOfText), new RetrievalRanking.Options(K, CHUNK, ITM_BATCH));
      long extra = reset ? Math.max(0, residentBytes("VmHWM") - before) : -1;
      double cpu = (processCpuNanos() - cpu0) / 1e9;
      return new Row(name, n, m, encode, r.itcSeconds(), r.itmSeconds(), cpu, extra, "");
    }
  }

  /** Random token ids of {@code m} captions: [CLS], 28 words, [SEP]. */
  private static RetrievalHead.Texts texts(RetrievalHead head, int m) {
    long vocab = head.model().config().text().vocab();
    Tensor ids = torch.randint(104, vocab, new long[] {m, TOKENS}).to(torch.ScalarType.Long);   // no special tokens
    ids.select(1, 0).fill_(new Scalar(101));
    ids.select(1, TOKENS - 1).fill_(new Scalar(102));
    Tensor mask = torch.ones(m, TOKENS).to(torch.ScalarType.Long);
    List<Tensor> embeds = new ArrayList<>();
    List<Tensor> features = new ArrayList<>();
    for (int start = 0; start < m; start += 256) {
      int b = Math.min(256, m - start);
      RetrievalHead.Texts part = head.texts(ids.narrow(0, start, b), mask.narrow(0, start, b));
      embeds.add(part.embeds());
      features.add(part.features());
    }
    return new RetrievalHead.Texts(torch.cat(new TensorVector(embeds.toArray(new Tensor[0])), 0),
        mask, torch.cat(new TensorVector(features.toArray(new Tensor[0])), 0));
  }

  private static String format(Row r) {
    long wholeBytes = 3L * r.images() * r.texts() * Float.BYTES;
    return String.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", r.model(),
        r.note().isEmpty() ? r.images() + " x " + r.texts() : "estimate", seconds(r.encodeS()), seconds(r.itcS()),
        seconds(r.itmS()), seconds(r.encodeS() + r.itcS() + r.itmS()), r.cpuS() < 0 ? "-" : seconds(r.cpuS()),
        bytes(r.extraBytes()), bytes(wholeBytes), r.note());
  }

  private static String seconds(double s) {
    return s >= 100 ? String.format("%.0f", s) : String.format("%.2f", s);
  }

  private static String bytes(long b) {
    if (b < 0) return "-";
    return b >= 1L << 30 ? String.format("%.2f GiB", b / (double) (1L << 30)) : String.format("%.1f MiB",
        b / (double) (1L << 20));
  }

  /**
   * CPU time of the whole process: beside the wall-clock columns it shows how much of the wall time the run had the
   * CPU (on a shared machine the wall time includes waiting for it).
   */
  private static long processCpuNanos() {
    return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** Resets the kernel's record of the peak resident size (Linux); false where that is not possible. */
  private static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return residentBytes("VmHWM") >= 0;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** A line of /proc/self/status in bytes ({@code VmRSS}, {@code VmHWM}), -1 where unknown. */
  private static long residentBytes(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
