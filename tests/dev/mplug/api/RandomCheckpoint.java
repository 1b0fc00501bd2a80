package dev.mplug.api;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.io.MPlugCheckpoint;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small shapes world (20 images of 64 px, with its vocab.txt) and untrained demo-size models saved beside it as
 * {@code .safetensors}: for the tests that need a model quickly, not a trained one (lifecycle, errors, memory, the
 * server's protocol).
 */
final class RandomCheckpoint {
  private RandomCheckpoint() {}

  /** A world in {@code dir}: images, annotation files, vocab.txt. */
  static Path world(Path dir) {
    Path world = dir.resolve("world");
    ShapesWorld.generate(world, ShapesWorld.Config.of(20, 0, 3, 64));
    return world;
  }

  /** The demo model ({@code model-demo}, every part) with seeded random weights, saved in {@code world}. */
  static Path demo(Path world, long seed) {
    return save(PretrainConfig.modelConfig("model-demo"), world.resolve("demo-" + seed + ".safetensors"), seed);
  }

  /** A model of {@code config} with seeded random weights, saved at {@code file}. */
  static Path save(MPlugConfig config, Path file, long seed) {
    TorchRuntime.seed(seed);
    MPlug model = new MPlug(config);
    try {
      MPlugCheckpoint.save(model, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      model.close();
    }
    return file;
  }

  /** The images of the world, in file-name order. */
  static Path image(Path world, int index) {
    Path p = world.resolve(SynthFiles.image(index));
    if (!Files.exists(p)) throw new IllegalArgumentException("no image " + p);
    return p;
  }
}
