package dev.mplug.data.loader;

import dev.mplug.data.dataset.MediaRef;
import dev.mplug.data.dataset.Sample;
import java.util.List;

/**
 * A sample as the loader hands it to the per-sample function: the task sample, references to its media (read on
 * demand), its dataset index and where it came from.
 */
public record LoadedSample(int index, Sample sample, List<MediaRef> media, String source) {
  public LoadedSample {
    media = List.copyOf(media);
  }
}
