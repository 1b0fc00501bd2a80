package dev.mplug.io;

import dev.mplug.model.ConfigFile;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The project's own model checkpoint: one safetensors file holding every parameter under its official name and, in
 * the metadata, the model config as config-file text ({@code mplug.config}), so a checkpoint alone rebuilds the
 * model. Written atomically (see {@link SafeTensors#write}).
 */
public final class MPlugCheckpoint {
  /** Metadata key of the config text. */
  public static final String CONFIG_KEY = "mplug.config";
  /** Metadata key naming the format. */
  public static final String FORMAT_KEY = "format";
  public static final String FORMAT = "mplug-java/1";

  private MPlugCheckpoint() {}

  /** Writes the model's parameters and config. */
  public static void save(MPlug model, Path file) throws IOException {
    SafeTensors.write(file, model.namedParameters(), Map.of(FORMAT_KEY, FORMAT, CONFIG_KEY,
        ConfigFile.format(model.config())));
  }

  /** The config stored in a checkpoint. */
  public static MPlugConfig config(Path file) throws IOException {
    Map<String, String> meta = SafeTensors.metadata(file);
    String text = meta.get(CONFIG_KEY);
    if (text == null) {
      throw CheckpointException.of(file, "no " + CONFIG_KEY + " metadata: not an mplug-java model checkpoint");
    }
    return ConfigFile.parse(text, file + " [" + CONFIG_KEY + "]");
  }

  /** Builds the model the checkpoint describes and loads every parameter (strict: all present, none extra). */
  public static MPlug load(Path file) throws IOException {
    MPlugConfig config = config(file);
    MPlug model = new MPlug(config);
    try (StateDict weights = SafeTensors.read(file)) {
      try {
        model.load(weights.asMap(), true);
      } catch (IllegalArgumentException e) {
        throw CheckpointException.of(file, e.getMessage());
      }
    }
    model.eval();
    return model;
  }
}
