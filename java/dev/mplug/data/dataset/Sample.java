package dev.mplug.data.dataset;

import java.util.List;

/** One annotation of a task, as the official files describe it; media paths are relative to the dataset root. */
public sealed interface Sample
    permits PretrainSample, CaptionSample, VqaSample, RetrievalSample, RetrievalEvalSample, GroundingSample,
        VideoCaptionSample, VideoQaSample, Nlvr2Sample, SnliVeSample {
  /** The image (or video) paths of this sample, relative to the dataset root, in order. */
  List<String> media();

  /** The task this sample belongs to. */
  Task task();
}
