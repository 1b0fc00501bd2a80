package dev.mplug.testing;

import dev.mplug.io.MPlugCheckpoint;
import dev.mplug.model.MPlug;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.Tasks;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.torch.TorchRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Untrained demo-size models of one task with that task's head ({@link DownstreamTask#extend}) saved as
 * {@code .safetensors}, seeded: what a fine-tuned checkpoint of the task holds, for tests that need every weight to
 * be the same in two loads.
 */
public final class HeadCheckpoints {
  private HeadCheckpoints() {}

  /** The whole untrained demo-size model (every part, no task head), seeded, saved as {@code file}. */
  public static Path demo(Path file, long seed) {
    TorchRuntime.seed(seed);
    return write(new MPlug(PretrainConfig.modelConfig("model-demo")), file);
  }

  /** @param overrides the task's settings it needs to be built (video-qa: its answer list) */
  public static Path save(String task, Path file, long seed, String... overrides) {
    TorchRuntime.seed(seed);
    DownstreamTask<?> t = Tasks.of(FinetuneConfig.defaults(task, List.of(overrides)));
    MPlug model = new MPlug(PretrainConfig.modelConfig("model-demo").withParts(t.parts()));
    t.extend(model);
    return write(model, file);
  }

  private static Path write(MPlug model, Path file) {
    try {
      MPlugCheckpoint.save(model, file);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      model.close();
    }
  }
}
