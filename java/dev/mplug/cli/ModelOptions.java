package dev.mplug.cli;

import dev.mplug.api.MPlugModel;
import dev.mplug.api.Precision;
import dev.mplug.api.Task;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options every inference command ({@code caption}, {@code vqa}, {@code retrieve}, {@code ground}, {@code entail},
 * {@code verify}, {@code serve}) shares: which checkpoint, how to read it, how to decode, how to read clips, on which
 * device. They become an {@link MPlugModel.Builder}, which refuses an option the task does not have.
 */
final class ModelOptions {
  @Option(names = "--checkpoint", required = true, description = "A trainer checkpoint folder (step-N/), a "
      + ".safetensors model written by mplug, or an official .pth (then give --model).")
  Path checkpoint;

  @Option(names = "--vocab", description = "The model's BERT vocab.txt (default: vocab.txt in or beside the "
      + "checkpoint).")
  Path vocab;

  @Option(names = "--model", description = "Model preset or config file, for checkpoints without a stored config.")
  String model;

  @Option(names = "--beam", description = "Beams of the answer / caption search (default 5).")
  Integer beam;

  @Option(names = "--max-length", description = "Tokens generated at most (default: VQA 10, captions 25).")
  Integer maxLength;

  @Option(names = "--frames", description = "Video tasks: frames sampled uniformly per clip (default 8).")
  Integer frames;

  @Option(names = "--answers", paramLabel = "FILE", description = "video-qa: the answers to rank, a JSON list or the "
      + "official train_ans2label.json (a checkpoint does not record them).")
  Path answers;

  @Option(names = "--precision", description = "fp32 (default) or bf16 autocast.")
  String precision = "fp32";

  @Option(names = "--threads", description = "Intra-op and BLAS threads (default: MPLUG_THREADS, else all cores).")
  int threads;

  @Option(names = "--batch", description = "Requests per forward pass (default ${DEFAULT-VALUE}).")
  int batch = MPlugModel.DEFAULT_BATCH_SIZE;

  @Mixin DeviceOption device;

  /**
   * The builder of {@code task}'s model with these options (null: the task read from the checkpoint); an unusable
   * {@code --device} is refused here, before the checkpoint is read.
   */
  MPlugModel.Builder builder(Task task) {
    MPlugModel.Builder b = MPlugModel.builder(checkpoint).device(device.resolve().label()).task(task)
        .threads(threads).batchSize(batch).precision(precision(precision));
    if (vocab != null) b.vocab(vocab);
    if (model != null) b.model(model);
    if (beam != null) b.beamSize(beam);
    if (maxLength != null) b.maxLength(maxLength);
    if (frames != null) b.frames(frames);
    if (answers != null) b.answers(answers);
    return b;
  }

  static Precision precision(String label) {
    return switch (label.strip().toLowerCase(Locale.ROOT)) {
      case "fp32" -> Precision.FP32;
      case "bf16" -> Precision.BF16;
      default -> throw new IllegalArgumentException("--precision " + label + " is not fp32 or bf16");
    };
  }
}
