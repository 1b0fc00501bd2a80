package dev.mplug.task.pretrain;

import dev.mplug.io.BertWeights;
import dev.mplug.io.CheckpointFiles;
import dev.mplug.io.ClipWeights;
import dev.mplug.io.LoadReport;
import dev.mplug.io.OfficialWeights;
import dev.mplug.io.StateDict;
import dev.mplug.model.MPlug;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The starting weights of a fresh pretraining run ({@code init { ... }} of the config), loaded into the online model
 * before the pretraining task copies it into the momentum twins, so the twins start equal to the loaded weights.
 *
 * <ul>
 *   <li>{@code vision}: OpenAI CLIP's visual tower, as the official {@code initialize_clip} ({@link ClipWeights});
 *   <li>{@code text}: BERT into the text encoder, the fusion layers (BERT's last ones) and the decoder, as the
 *       official {@code from_pretrained} calls ({@link BertWeights}); cross-attention stays fresh;
 *   <li>{@code checkpoint}: a whole mPLUG model, official names or this project's ({@link OfficialWeights} reads both):
 *       an official {@code .pth}, a {@code .safetensors} written by this project, or a trainer checkpoint folder
 *       ({@code step-N/}, whose {@code model.safetensors} is read without the trainer's {@code state/} entries).
 * </ul>
 * Precedence: a checkpoint holds the whole model, so it excludes vision and text (the config refuses both); vision and
 * text fill disjoint parameters, so their order does not matter. Whatever a file does not fill keeps its seeded random
 * initial value. Every problem names the config key: a missing file, a file that is not a state dict, shapes that do
 * not fit the model (nothing is copied then), and, when strict, missing or unexplained keys; a non-strict load that
 * fills nothing fails too (the file is not what the key asks for).
 */
public final class InitialWeights {
  private static final String TRAINER_STATE = "state/";

  private InitialWeights() {}

  /** Loads {@code init} into {@code model} (its named parameters, in place); returns one report per file, in order. */
  public static Map<String, LoadReport> load(PretrainConfig.Init init, MPlug model) {
    Map<String, Tensor> params = model.namedParameters();
    Map<String, LoadReport> reports = new LinkedHashMap<>();
    if (init.checkpoint() != null) {
      reports.put("checkpoint", checked("checkpoint", init.checkpoint(), init.strict(), () -> {
        try (StateDict file = CheckpointFiles.read(modelFile(init.checkpoint()))) {
          return OfficialWeights.load(withoutTrainerState(file), params,
              OfficialWeights.Options.defaults().withStrict(init.strict()));
        }
      }));
    }
    if (init.vision() != null) {
      reports.put("vision", checked("vision", init.vision(), init.strict(),
          () -> ClipWeights.load(init.vision(), params, init.strict())));
    }
    if (init.text() != null) {
      reports.put("text", checked("text", init.text(), init.strict(),
          () -> BertWeights.load(init.text(), params, init.strict())));
    }
    return reports;
  }

  private interface Load {
    LoadReport run() throws IOException;
  }

  /** Runs one load, turning every failure into one message that starts with the config key. */
  private static LoadReport checked(String key, Path file, boolean strict, Load load) {
    LoadReport report;
    try {
      report = load.run();
    } catch (IOException | IllegalArgumentException e) {
      String hint = strict && String.valueOf(e.getMessage()).contains("strict load failed")
          ? " (init { strict: false } loads what fits and reports the rest)" : "";
      throw new IllegalArgumentException("init." + key + ": " + withFile(e.getMessage(), file) + hint, e);
    }
    if (report.loaded().isEmpty()) {
      throw new IllegalArgumentException("init." + key + ": " + file + " holds no weights for this model ("
          + report.unexpected().size() + " unexplained keys" + (strict ? "" : ", strict: false") + "); is it "
          + switch (key) {
            case "vision" -> "an OpenAI CLIP state dict (visual.* keys)?";
            case "text" -> "a BERT state dict (bert.embeddings.*, bert.encoder.layer.*)?";
            default -> "an mPLUG checkpoint?";
          });
    }
    return report;
  }

  private static String withFile(String message, Path file) {
    return message != null && message.contains(file.toString()) ? message : file + ": " + message;
  }

  /** A file as it is; a trainer checkpoint folder: its model file, once its manifest checks out. */
  private static Path modelFile(Path checkpoint) throws IOException {
    if (!Files.isDirectory(checkpoint)) return checkpoint;
    var problem = CheckpointStore.validate(checkpoint);
    if (problem.isPresent()) {
      throw new IOException(checkpoint + " is not a complete checkpoint folder: " + problem.get());
    }
    return checkpoint.resolve(Trainer.MODEL_FILE);
  }

  /**
   * The model's parameters only: a trainer checkpoint also holds {@code state/} entries (momentum twins, queues),
   * which a fresh run does not take over (its twins start as copies of the loaded online weights, its queues empty).
   */
  private static StateDict withoutTrainerState(StateDict file) {
    Map<String, Tensor> kept = new LinkedHashMap<>();
    List<String> dropped = new ArrayList<>();
    file.asMap().forEach((k, v) -> {
      if (k.startsWith(TRAINER_STATE)) dropped.add(k);
      else kept.put(k, v);
    });
    // a view sharing the file's tensors: the caller closes the file, never this view
    return dropped.isEmpty() ? file : new StateDict(kept, file.metadata(), file.origin());
  }
}
