package dev.mplug.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.io.LoadReport;
import dev.mplug.io.MPlugCheckpoint;
import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.task.pretrain.InitialWeights;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.train.CheckpointStore;
import dev.mplug.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A model to evaluate or serve, from a checkpoint: a trainer checkpoint folder ({@code step-N/}, its model config
 * read from {@code trainer.json}), a {@code .safetensors} written by this project (config in its metadata), or an
 * official {@code .pth} (the model config must then be given). Built with the parts a task uses; every one of them
 * must come from the file (a task's part missing from the checkpoint is an error, parts the task does not use are
 * reported and left).
 */
public final class TrainedModel {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The model and how its weights were loaded. */
  public record Loaded(MPlug model, LoadReport report) {}

  private TrainedModel() {}

  /**
   * The model of {@code task} (its parts, and its own parameters: {@link DownstreamTask#extend}) with the weights of
   * {@code checkpoint}.
   *
   * @param config the model config for files that do not carry one (official checkpoints); null = from the file
   */
  public static Loaded load(Path checkpoint, MPlugConfig config, DownstreamTask<?> task) {
    return load(checkpoint, config, task, ComputeDevice.CPU);
  }

  /**
   * {@link #load(Path, MPlugConfig, DownstreamTask)} on {@code device}: the weights are read on the host (a
   * checkpoint is written from CPU copies) and the model is then moved there, in eval mode.
   */
  public static Loaded load(Path checkpoint, MPlugConfig config, DownstreamTask<?> task, ComputeDevice device) {
    if (!Files.exists(checkpoint)) throw new IllegalArgumentException("--checkpoint " + checkpoint + " does not exist");
    MPlugConfig c = config != null ? config : storedConfig(checkpoint);
    MPlug model = new MPlug(c.withParts(task.parts()));
    task.extend(model);
    Map<String, LoadReport> reports = LoadReport.quietly(() -> InitialWeights.load(
        new PretrainConfig.Init(null, null, checkpoint, false), model));
    LoadReport report = reports.get("checkpoint");
    if (!report.missing().isEmpty()) {
      throw new IllegalArgumentException("--checkpoint " + checkpoint + " lacks " + report.missing().size()
          + " parameters of this task's model, e.g. " + report.missing().get(0));
    }
    report.log();
    model.moveTo(device);
    model.eval();
    return new Loaded(model, report);
  }

  /**
   * The task a trainer checkpoint folder was fine-tuned for ({@code task} in its state file), if it records one
   * (pretraining checkpoints, older folders and model files do not).
   */
  public static Optional<String> storedTask(Path checkpoint) {
    if (!Files.isDirectory(checkpoint)) return Optional.empty();
    try {
      CheckpointStore.requireValid(checkpoint);
      String task = JSON.readTree(checkpoint.resolve(Trainer.STATE_FILE).toFile()).path("task").asText("");
      return task.isEmpty() ? Optional.empty() : Optional.of(task);
    } catch (IOException e) {
      throw new IllegalArgumentException("--checkpoint " + checkpoint + ": " + e.getMessage(), e);
    }
  }

  /** The model config a checkpoint carries. */
  public static MPlugConfig storedConfig(Path checkpoint) {
    try {
      if (Files.isDirectory(checkpoint)) {
        CheckpointStore.requireValid(checkpoint);
        JsonNode state = JSON.readTree(checkpoint.resolve(Trainer.STATE_FILE).toFile());
        String text = state.path("model_config").asText("");
        if (text.isEmpty()) {
          throw new IllegalArgumentException("--checkpoint " + checkpoint + ": " + Trainer.STATE_FILE
              + " holds no model_config");
        }
        return ConfigFile.parse(text, checkpoint.resolve(Trainer.STATE_FILE) + " [model_config]");
      }
      if (checkpoint.getFileName().toString().endsWith(".safetensors")) return MPlugCheckpoint.config(checkpoint);
    } catch (IOException e) {
      throw new IllegalArgumentException("--checkpoint " + checkpoint + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("--checkpoint " + checkpoint + " carries no model config (an official "
        + ".pth?): give --model (a preset or model config file)");
  }
}
