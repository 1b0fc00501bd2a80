package dev.mplug.data.loader;

import java.util.random.RandomGenerator;

/**
 * Turns a loaded sample into what the collator batches (decoded and augmented images, cleaned texts, targets).
 * Runs on the loader's worker threads; throws {@link dev.mplug.data.BadSampleException} for an unusable sample.
 * {@code rng} is derived from (seed, epoch, rank, position, attempt), so augmentations repeat exactly after a resume.
 */
@FunctionalInterface
public interface SampleFunction<T> {
  T apply(LoadedSample sample, RandomGenerator rng);
}
