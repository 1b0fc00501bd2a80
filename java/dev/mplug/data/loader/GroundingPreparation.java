package dev.mplug.data.loader;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.Box;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.dataset.MediaRef;
import dev.mplug.data.image.BoxedImage;
import dev.mplug.data.image.GroundingTransforms;
import dev.mplug.data.image.Images;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * The per-sample function of visual grounding: image, box and expression move together through the letterbox (and,
 * in training, the grounding augmentations of {@link GroundingTransforms}), so the example's box is where the
 * referred object lies on the {@code size x size} canvas the model sees, in pixels {@code (x, y, w, h)}. The
 * expression is lower-cased (as {@link TaskPreparation} does) before the transforms, which look for direction words
 * and swap "left"/"right" on a flip.
 *
 * <p>A box reaching past the image is clipped to it; one that misses the image entirely is a bad sample.
 */
public final class GroundingPreparation implements SampleFunction<Example<Mat>> {
  private final int size;
  private final boolean train;
  private final GroundingTransforms.Options options;
  private final long maxPixels;

  public GroundingPreparation(int size, boolean train, GroundingTransforms.Options options, long maxPixels) {
    if (size <= 0) throw new IllegalArgumentException("grounding canvas must be > 0 pixels, got " + size);
    this.size = size;
    this.train = train;
    this.options = options;
    this.maxPixels = maxPixels;
  }

  @Override
  public Example<Mat> apply(LoadedSample loaded, RandomGenerator rng) {
    if (!(loaded.sample() instanceof GroundingSample s)) {
      throw new IllegalArgumentException("the grounding pipeline got a " + loaded.sample().task() + " sample from "
          + loaded.source());
    }
    MediaRef ref = loaded.media().getFirst();
    try (Mat rgb = Images.decode(ref.bytes(), ref.source(), maxPixels)) {
      Box box = s.box().cropped(0, 0, rgb.cols(), rgb.rows());
      if (box.width() <= 0 || box.height() <= 0) {
        throw new BadSampleException(loaded.source(), "bbox " + Arrays.toString(s.box().xywh())
            + " lies outside the " + rgb.cols() + " x " + rgb.rows() + " image " + ref.name());
      }
      BoxedImage in = new BoxedImage(rgb, box, s.text().toLowerCase(Locale.ROOT));
      BoxedImage out = train ? GroundingTransforms.train(in, size, options, rng) : GroundingTransforms.eval(in, size);
      return new Example<>(List.of(out.image()), out.text(), List.of(), List.of(), -1, out.box(),
          Long.toString(s.refId()));
    }
  }
}
