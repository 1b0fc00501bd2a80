package dev.mplug.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.TaskEvaluation;
import dev.mplug.task.Tasks;
import dev.mplug.task.TrainedModel;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.NoGradGuard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mplug evaluate}: runs a task's inference over an annotation file and scores it. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Evaluate a checkpoint on a downstream task: inference over the annotation file (VQA answers, "
        + "captions, retrieval rankings, grounding boxes), the task's metrics on stdout, the results in the official "
        + "format with --out.")
public final class EvaluateCommand implements Callable<Integer> {
  @Option(names = "--task", required = true, description = "vqa | caption | retrieval | grounding | snli-ve | "
      + "nlvr2 | video-retrieval | video-qa | video-caption.")
  String task;

  @Option(names = "--checkpoint", required = true, description = "A trainer checkpoint folder (step-N/), a "
      + ".safetensors model written by mplug, or an official .pth (then give --model).")
  Path checkpoint;

  @Option(names = "--annotations", required = true, description = "The task's evaluation file in its official format "
      + "(with the answers / references / boxes to score against).")
  Path annotations;

  @Option(names = "--root", description = "Media paths are relative to it (default: the annotation file's folder).")
  Path root;

  @Option(names = "--vocab", description = "BERT vocab.txt (default: the config's data.vocab, else vocab.txt beside "
      + "the annotations).")
  Path vocab;

  @Option(names = "--out", paramLabel = "RESULTS.json", description = "Write the results in the official format.")
  Path out;

  @Option(names = "--config", description = "A fine-tuning config whose task options (beam size, ...) to use.")
  String config;

  @Option(names = "--model", description = "Model preset or config file, for checkpoints without a stored config.")
  String model;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a task option, e.g. --set "
      + "vqa.beam_size=3 (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--max-items", description = "Evaluate at most this many items (default: all).")
  int maxItems;

  @Option(names = "--batch", description = "Evaluation batch size (default ${DEFAULT-VALUE}).")
  int batch = 16;

  @Mixin DeviceOption device;

  @Override
  public Integer call() throws IOException {
    ComputeDevice on = device.resolve();
    FinetuneConfig cfg = config != null ? FinetuneConfig.load(config, overrides)
        : FinetuneConfig.defaults(task, overrides);
    if (!cfg.task().equals(task)) {
      throw new IllegalArgumentException("--task " + task + " but the config " + config + " is for task " + cfg.task());
    }
    if (!Files.exists(checkpoint)) throw new IllegalArgumentException("--checkpoint " + checkpoint + " does not exist");
    if (!Files.isRegularFile(annotations)) {
      throw new IllegalArgumentException("--annotations " + annotations + " does not exist");
    }
    if (root != null && !Files.isDirectory(root)) throw new IllegalArgumentException("--root " + root + " is not a folder");
    FinetuneConfig.Eval set = FinetuneConfig.Eval.of(annotations, root, maxItems, batch);
    Path vocabFile = vocab != null ? vocab : cfg.data().vocab() != null ? cfg.data().vocab()
        : set.annotations().toAbsolutePath().getParent().resolve("vocab.txt");
    if (!Files.isRegularFile(vocabFile)) {
      throw new IllegalArgumentException("--vocab " + vocabFile + " does not exist (a BERT vocab.txt)");
    }
    if (out != null && out.toAbsolutePath().getParent() != null && !Files.isDirectory(out.toAbsolutePath().getParent())) {
      throw new IllegalArgumentException("--out " + out + ": the folder " + out.toAbsolutePath().getParent()
          + " does not exist");
    }
    DownstreamTask<?> t = Tasks.of(cfg);
    TorchRuntime.load();
    BertTokenizer tokenizer = BertTokenizer.load(vocabFile);
    TrainedModel.Loaded loaded = TrainedModel.load(checkpoint, model == null ? null : PretrainConfig.modelConfig(model),
        t, on);
    System.err.println("checkpoint: " + loaded.report().summary().lines().findFirst().orElse(""));
    TaskEvaluation e;
    long t0 = System.nanoTime();
    try (NoGradGuard _ = new NoGradGuard()) {
      e = t.evaluate(loaded.model(), tokenizer, set);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (out != null) {
      try {
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), e.results());
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot write --out " + out + ": " + ex.getMessage(), ex);
      }
    }
    System.out.printf(Locale.ROOT, "%s on %s (%d results, %.1f s on %s)%n", task, annotations, e.results().size(),
        seconds, on);
    e.metrics().forEach((k, v) -> System.out.printf(Locale.ROOT, "  %-14s %.2f%n", k, v));
    e.notes().forEach((k, v) -> System.out.printf(Locale.ROOT, "  %-14s not computed: %s%n", k, v));
    if (out != null) System.out.println("results: " + out);
    return 0;
  }
}
