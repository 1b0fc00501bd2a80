package dev.mplug.eval.grounding;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.image.ImageHeader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The annotated boxes of a referring-expression file (the project's grounding format, {@code [{"image", "text",
 * "bbox": [x, y, w, h] in pixels, "ref_id"}]}), normalised over their images for {@link GroundingAccuracy}. The file
 * does not carry image sizes, so each image's header is read (once per image) from {@code images/<image>}.
 */
public final class GroundingAnnotations {
  private GroundingAnnotations() {}

  /**
   * ref_id (as text) -> the annotated box, normalised, in file order. Every entry must be usable and every ref_id
   * unique; otherwise an exception names the file and line.
   */
  public static Map<String, NormalizedBox> read(Path file, Path images) {
    AnnotationDataset<GroundingSample> dataset = AnnotationDataset.grounding(file, images);
    Map<String, NormalizedBox> boxes = new LinkedHashMap<>();
    Map<String, ImageHeader> headers = new HashMap<>();
    for (int i = 0; i < dataset.size(); i++) {
      GroundingSample s = dataset.get(i);
      String id = Long.toString(s.refId());
      if (boxes.containsKey(id)) {
        throw new IllegalArgumentException(dataset.source(i) + ": ref_id " + id + " appears a second time");
      }
      String source = dataset.source(i);
      ImageHeader h = headers.computeIfAbsent(s.image(), image -> header(dataset.resolve(image), source));
      boxes.put(id, NormalizedBox.of(s.box(), h.width(), h.height()));
    }
    return boxes;
  }

  private static ImageHeader header(Path image, String source) {
    try {
      return ImageHeader.parse(Files.readAllBytes(image), image.toString());
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(source + ": image " + image + " does not exist (its size is needed to "
          + "normalise the box)");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read image " + image + " of " + source, e);
    }
  }
}
