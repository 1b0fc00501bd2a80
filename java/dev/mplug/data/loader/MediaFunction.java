package dev.mplug.data.loader;

import dev.mplug.data.dataset.MediaRef;
import java.util.random.RandomGenerator;

/**
 * Decodes and augments one image or video of a sample, e.g. for images
 * {@code (ref, rng) -> transform.apply(Images.decode(ref.bytes(), ref.source()), rng)}. Throws
 * {@link dev.mplug.data.BadSampleException} for media that cannot be used.
 */
@FunctionalInterface
public interface MediaFunction<I> {
  I apply(MediaRef media, RandomGenerator rng);
}
