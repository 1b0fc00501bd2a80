package dev.mplug.task;

import dev.mplug.task.caption.CaptionTask;
import dev.mplug.task.grounding.GroundingTask;
import dev.mplug.task.nlvr2.Nlvr2Task;
import dev.mplug.task.retrieval.RetrievalTask;
import dev.mplug.task.snlive.SnliVeTask;
import dev.mplug.task.video.VideoCaptionTask;
import dev.mplug.task.video.VideoQaTask;
import dev.mplug.task.video.VideoRetrievalTask;
import dev.mplug.task.vqa.VqaTask;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The downstream tasks by name: {@code --task T} and a fine-tuning config's {@code task:} field pick one here. */
public final class Tasks {
  private static final Map<String, Function<FinetuneConfig, DownstreamTask<?>>> BY_NAME = new LinkedHashMap<>();

  static {
    BY_NAME.put("vqa", VqaTask::new);
    BY_NAME.put("caption", CaptionTask::new);
    BY_NAME.put("retrieval", RetrievalTask::new);
    BY_NAME.put("grounding", GroundingTask::new);
    BY_NAME.put(SnliVeTask.NAME, SnliVeTask::new);
    BY_NAME.put(Nlvr2Task.NAME, Nlvr2Task::new);
    BY_NAME.put(VideoRetrievalTask.NAME, VideoRetrievalTask::new);
    BY_NAME.put(VideoQaTask.NAME, VideoQaTask::new);
    BY_NAME.put(VideoCaptionTask.NAME, VideoCaptionTask::new);
  }

  private Tasks() {}

  /** The task names, in the order of the paper's task table. */
  public static List<String> names() {
    return List.copyOf(BY_NAME.keySet());
  }

  /** Builds the task of {@code config} (the task validates its own config section here, before any compute). */
  public static DownstreamTask<?> of(FinetuneConfig config) {
    Function<FinetuneConfig, DownstreamTask<?>> factory = BY_NAME.get(config.task());
    if (factory == null) throw new IllegalArgumentException("task \"" + config.task() + "\" is not one of " + names());
    return factory.apply(config);
  }
}
