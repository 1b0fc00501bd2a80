package dev.mplug.experiment;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.eval.RetrievalRecall;
import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlugConfig;
import dev.mplug.profile.PeakResidentSet;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.FinetuneRun;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.pretrain.PretrainFlops;
import dev.mplug.task.pretrain.PretrainRun;
import dev.mplug.torch.NativeHeap;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What each way of mixing the visual sequence, and each masked-vision-modeling target, buys in downstream quality at
 * the same compute: on the synthetic shapes world, every variant pretrains (the demo recipe, {@code pretrain-demo})
 * for as many steps as a fixed budget of model FLOPs buys at its own FLOPs per step ({@link PretrainFlops}: a cheaper
 * variant takes more steps, +MVM fewer), under several seeds; then each pretrained model is scored downstream:
 * image-text retrieval R@1/R@5 zero-shot (ITC top-k re-ranked by ITM on held-out images, no retrieval fine-tuning), VQA
 * accuracy after a short fine-tune ({@code vqa-demo}) and caption CIDEr after a short fine-tune ({@code caption-demo}),
 * the same number of fine-tuning steps for every variant. Same FLOPs rather than same wall time: it is reproducible
 * across machines and machine load; the wall time of a step is reported beside it.
 */
public final class FixedComputeQuality {
  /** One pretraining setup: a model config and the objectives' overrides ({@code objectives.*} keys). */
  public record Variant(String id, String name, MPlugConfig model, List<String> objectives) {
    public Variant {
      objectives = List.copyOf(objectives);
    }
  }

  /**
   * The protocol: the pretraining budget in model FLOPs, the seeds (1..seeds), the world's size, the fine-tuning steps
   * of VQA and captioning, and how much of each held-out set is scored.
   */
  public record Settings(double budgetFlops, int seeds, int worldImages, int vqaSteps, int captionSteps,
      int retrievalImages, int vqaQuestions, int captionImages) {
    public Settings {
      if (!(budgetFlops > 0)) {
        throw new IllegalArgumentException("--budget must be > 0 TFLOP, got " + budgetFlops / 1e12);
      }
      if (seeds < 1) throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
      if (worldImages < 20) throw new IllegalArgumentException("--images must be >= 20, got " + worldImages);
      if (vqaSteps < 1 || captionSteps < 1) {
        throw new IllegalArgumentException("--finetune-steps must be >= 1, got " + Math.min(vqaSteps, captionSteps));
      }
    }
  }

  /** One pretraining run and its downstream scores (percentages; CIDEr x 100 as the caption scorer reports it). */
  public record Run(String variant, int seed, long steps, double gflopsPerStep, double secondsPerStep,
      double peakMib, double retrievalR1, double retrievalR5, double vqaAccuracy, double cider, double wallSeconds) {}

  /** A figure of the table and the plot: its column title, how it is read from a run, its decimals. */
  private record Figure(String title, ToDoubleFunction<Run> value, int decimals) {}

  private static final List<Figure> FIGURES = List.of(
      new Figure("pretraining steps", Run::steps, 0),
      new Figure("GFLOP/step", Run::gflopsPerStep, 2),
      new Figure("s/step (wall)", Run::secondsPerStep, 3),
      new Figure("peak RSS MiB", Run::peakMib, 0),
      new Figure("retrieval R@1", Run::retrievalR1, 1),
      new Figure("retrieval R@5", Run::retrievalR5, 1),
      new Figure("VQA accuracy", Run::vqaAccuracy, 1),
      new Figure("caption CIDEr", Run::cider, 1));

  /** The shapes world's seed: every run sees the same data; the run's seed sets weights, batches and masks. */
  private static final long WORLD_SEED = 7;

  private FixedComputeQuality() {}

  /**
   * The variants over {@code base}: {@link CostScaling#variants}'s ways of mixing (mPLUG as configured, connected
   * everywhere, co-attention only, lambda fusion / vision / both) and mPLUG with masked vision modeling (weight 1,
   * 40% of the patches in blocks) predicting normalised pixels or the momentum encoder's patch features.
   */
  public static List<Variant> variants(MPlugConfig base) {
    List<String> ids = List.of("mplug", "connected", "co-attention", "lambda-fusion", "lambda-vision", "lambda-both");
    List<CostScaling.Variant> mixing = CostScaling.variants(base);
    List<Variant> out = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      out.add(new Variant(ids.get(i), mixing.get(i).name(), mixing.get(i).config(), List.of()));
    }
    String mplug = mixing.get(0).name();
    out.add(new Variant("mvm-pixels", mplug + " + MVM pixels", base, mvm("pixels")));
    out.add(new Variant("mvm-features", mplug + " + MVM momentum features", base, mvm("momentum_features")));
    return out;
  }

  private static List<String> mvm(String target) {
    return List.of("objectives.mvm_weight=1.0", "objectives.mvm_mask_ratio=0.4", "objectives.mvm_mask=block",
        "objectives.mvm_target=" + target);
  }

  /** The variants named by {@code ids} (in that order); an unknown id is an error naming the known ones. */
  public static List<Variant> select(List<Variant> all, List<String> ids) {
    List<Variant> out = new ArrayList<>();
    for (String id : ids) {
      out.add(all.stream().filter(v -> v.id().equals(id)).findFirst().orElseThrow(() -> new IllegalArgumentException(
          "--variants: \"" + id + "\" is not one of " + all.stream().map(Variant::id).toList())));
    }
    return out;
  }

  /** The pretraining steps a budget buys at {@code flopsPerStep}: the whole steps that fit, at least one. */
  public static long stepsFor(double budgetFlops, double flopsPerStep) {
    long steps = (long) Math.floor(budgetFlops / flopsPerStep);
    if (steps < 1) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "--budget %.3g FLOPs is below one pretraining "
          + "step (%.3g FLOPs)", budgetFlops, flopsPerStep));
    }
    return steps;
  }

  /**
   * Runs every variant under every seed in {@code dir} (the world in {@code world/}, each run's outputs and log in
   * {@code runs/ID-seedN/}), rewriting {@code table.md} (marked partial until the last run) and {@code quality.png}
   * after each run; one line per run goes to {@code log}.
   */
  public static List<Run> run(List<Variant> variants, Settings s, Path dir, PrintStream log) throws IOException {
    Files.createDirectories(dir.resolve("models"));
    Path world = dir.resolve("world");
    int res = variants.get(0).model().vision().imageRes();
    ShapesWorld.ensure(world, ShapesWorld.Config.of(s.worldImages(), 0, WORLD_SEED, res));
    List<Run> runs = new ArrayList<>();
    int total = variants.size() * s.seeds();
    for (Variant v : variants) {
      Path model = dir.resolve("models").resolve(v.id() + ".txtpb");
      Files.writeString(model, ConfigFile.format(v.model()));
      for (int seed = 1; seed <= s.seeds(); seed++) {
        Run r = runOne(v, seed, model, world, dir.resolve("runs").resolve(v.id() + "-seed" + seed), s);
        runs.add(r);
        log.printf(Locale.ROOT, "[%d/%d] %s seed %d: %d steps, %.3f s/step, R@1 %.1f, R@5 %.1f, VQA %.1f, CIDEr "
            + "%.1f (%.0f s)%n", runs.size(), total, v.name(), seed, r.steps(), r.secondsPerStep(), r.retrievalR1(),
            r.retrievalR5(), r.vqaAccuracy(), r.cider(), r.wallSeconds());
        write(dir, variants, runs, header(s, runs.size(), total));
      }
    }
    return runs;
  }

  /** Pretrains one variant under one seed on the budget, then scores it downstream; outputs go to {@code runDir}. */
  static Run runOne(Variant v, int seed, Path model, Path world, Path runDir, Settings s) throws IOException {
    long start = System.nanoTime();
    Files.createDirectories(runDir);
    try (PrintStream runLog = new PrintStream(Files.newOutputStream(runDir.resolve("log.txt")), true)) {
      PretrainConfig shipped = pretrainConfig(v, model, world, runDir, seed, 1);
      int batch = shipped.data().batchSize();
      double flopsPerStep = PretrainFlops.estimate(shipped.model(), shipped.data().maxTokens(), shipped.objectives())
          * batch;
      long steps = stepsFor(s.budgetFlops(), flopsPerStep);
      PretrainConfig cfg = pretrainConfig(v, model, world, runDir, seed, steps);
      NativeHeap.trim();
      PeakResidentSet.reset();
      PretrainRun.Report pre = PretrainRun.run(cfg, false, new PretrainRun.Evaluation(
          world.resolve(SynthFiles.RETRIEVAL_TEST), world, s.retrievalImages(), 16), runLog);
      double peakMib = PeakResidentSet.bytes() / (1024.0 * 1024);
      PretrainRun.printTable(pre, runLog);
      RetrievalRecall.Result recall = pre.after().retrieval();
      double vqa = finetune("vqa", "vqa_accuracy", SynthFiles.VQA_TRAIN, SynthFiles.VQA_VAL, s.vqaSteps(),
          s.vqaQuestions(), pre.checkpoint(), model, world, runDir, seed, runLog);
      double cider = finetune("caption", "CIDEr", SynthFiles.CAPTION_TRAIN, SynthFiles.CAPTION_TEST, s.captionSteps(),
          s.captionImages(), pre.checkpoint(), model, world, runDir, seed, runLog);
      return new Run(v.id(), seed, steps, flopsPerStep / 1e9, batch / pre.summary().samplesPerSecond(), peakMib,
          (recall.textR1() + recall.imageR1()) / 2, (recall.textR5() + recall.imageR5()) / 2, vqa, cider,
          (System.nanoTime() - start) / 1e9);
    }
  }

  /** The demo pretraining recipe for this variant, seed and number of steps (a tenth of them warm-up). */
  private static PretrainConfig pretrainConfig(Variant v, Path model, Path world, Path runDir, int seed, long steps) {
    List<String> sets = new ArrayList<>(List.of("model=" + model, "data.annotations=" + world.resolve(
        SynthFiles.PRETRAIN), "data.root=" + world, "output_dir=" + runDir.resolve("pretrain"),
        "train.total_steps=" + steps, "train.warmup_steps=" + steps / 10, "train.seed=" + seed,
        "train.checkpoint_every=0", "train.keep_last=1", "train.best_metric=none",
        "train.log_every=" + Math.max(1, steps / 5)));
    sets.addAll(v.objectives());
    return PretrainConfig.load("pretrain-demo", sets);
  }

  /** Fine-tunes {@code task} from the pretrained checkpoint by its demo recipe for {@code steps}; its metric after. */
  private static double finetune(String task, String metric, String train, String test, int steps, int evalItems,
      Path checkpoint, Path model, Path world, Path runDir, int seed, PrintStream runLog) {
    FinetuneConfig cfg = FinetuneConfig.load(task + "-demo", List.of("model=" + model, "init.checkpoint=" + checkpoint,
        "data.root=" + world, "data.annotations=" + world.resolve(train), "data.vocab=" + world.resolve(
        SynthFiles.VOCAB), "eval.annotations=" + world.resolve(test), "eval.root=" + world,
        "eval.max_items=" + evalItems, "output_dir=" + runDir.resolve(task), "train.total_steps=" + steps,
        "train.warmup_steps=" + steps / 10, "train.seed=" + seed, "train.checkpoint_every=0", "train.keep_last=1",
        "train.best_metric=none", "train.log_every=" + Math.max(1, steps / 5)));
    FinetuneRun.Report report = FinetuneRun.run(cfg, FinetuneRun.Options.defaults(), runLog);
    FinetuneRun.printTable(report, runLog);
    return report.after().metric(metric);
  }

  /** Each variant's figures over its seeds, in the variants' order (variants without runs left out). */
  public static Map<Variant, List<SeedSpread>> aggregate(List<Variant> variants, List<Run> runs) {
    Map<Variant, List<SeedSpread>> out = new LinkedHashMap<>();
    for (Variant v : variants) {
      List<Run> mine = runs.stream().filter(r -> r.variant().equals(v.id())).toList();
      if (mine.isEmpty()) continue;
      out.put(v, FIGURES.stream().map(f -> SeedSpread.of(mine.stream().mapToDouble(f.value()).toArray())).toList());
    }
    return out;
  }

  /** The Markdown tables: per variant the mean ± std (min-max) over seeds of every figure, then every run. */
  public static String table(List<Variant> variants, List<Run> runs) {
    StringBuilder out = new StringBuilder("| variant | seeds |");
    StringBuilder rule = new StringBuilder("| --- | ---: |");
    for (Figure f : FIGURES) {
      out.append(' ').append(f.title()).append(" |");
      rule.append(" ---: |");
    }
    out.append('\n').append(rule).append('\n');
    aggregate(variants, runs).forEach((v, spreads) -> {
      out.append("| ").append(v.name()).append(" | ").append(spreads.get(0).n()).append(" |");
      for (int i = 0; i < FIGURES.size(); i++) out.append(' ').append(spreads.get(i).format(FIGURES.get(i).decimals()))
          .append(" |");
      out.append('\n');
    });
    out.append("\nEvery run:\n\n| variant | seed |");
    for (Figure f : FIGURES) out.append(' ').append(f.title()).append(" |");
    out.append(" run wall s |\n| --- | ---: |").append(" ---: |".repeat(FIGURES.size() + 1)).append('\n');
    for (Run r : runs) {
      out.append("| ").append(r.variant()).append(" | ").append(r.seed()).append(" |");
      for (Figure f : FIGURES) {
        out.append(String.format(Locale.ROOT, " %." + f.decimals() + "f |", f.value().applyAsDouble(r)));
      }
      out.append(String.format(Locale.ROOT, " %.0f |%n", r.wallSeconds()));
    }
    return out.toString();
  }

  /** The header of the table: the protocol, and "partial" until every run is in. */
  public static String header(Settings s, int done, int total) {
    return String.format(Locale.ROOT, "%sDownstream quality at a fixed pretraining budget of %.3g TFLOP (model FLOPs, "
        + "PretrainFlops; each variant takes the whole steps the budget buys), seeds 1-%d, shapes world of %d images "
        + "(seed %d). Pretraining: pretrain-demo's recipe, a tenth of the steps warm-up. Retrieval: zero-shot from "
        + "pretraining, ITC top-16 re-ranked by ITM, %d held-out images, R@k the mean of image->text and text->image. "
        + "VQA: vqa-demo fine-tuned %d steps, accuracy on %d held-out questions. Captioning: caption-demo fine-tuned "
        + "%d steps, CIDEr on %d held-out images. Figures: mean ± sample std (min-max) over seeds; s/step is the "
        + "pretraining's wall time per step; peak RSS is the process's during pretraining and its evaluations.",
        done < total ? "PARTIAL: " + done + " of " + total + " runs done. " : "", s.budgetFlops() / 1e12, s.seeds(),
        s.worldImages(), WORLD_SEED, s.retrievalImages(), s.vqaSteps(), s.vqaQuestions(), s.captionSteps(),
        s.captionImages());
  }

  /** Writes {@code table.md} ({@code header}, then the tables) and {@code quality.png} into {@code dir}. */
  public static void write(Path dir, List<Variant> variants, List<Run> runs, String header) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("table.md"), header + "\n\n" + table(variants, runs));
    List<Variant> done = variants.stream().filter(v -> runs.stream().anyMatch(r -> r.variant().equals(v.id())))
        .toList();
    List<BarPlot.Panel> panels = new ArrayList<>();
    for (Figure f : FIGURES.stream().filter(f -> !f.title().equals("GFLOP/step")
        && !f.title().equals("peak RSS MiB")).toList()) {
      panels.add(new BarPlot.Panel(f.title(), done.stream().map(v -> runs.stream().filter(r -> r.variant()
          .equals(v.id())).mapToDouble(f.value()).toArray()).toList()));
    }
    BarPlot.write(dir.resolve("quality.png"), "Downstream quality at a fixed pretraining FLOP budget",
        done.stream().map(Variant::name).toList(), panels);
  }
}
