package dev.mplug.api;

import dev.mplug.data.Box;
import dev.mplug.data.image.BoxedImage;
import dev.mplug.data.image.GroundingTransforms;
import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.eval.grounding.NormalizedBox;
import dev.mplug.task.grounding.CanvasPlacement;
import dev.mplug.task.grounding.GroundingHead;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.pytorch.Tensor;

/**
 * Grounding as {@code GroundingEvaluation} does it: the image letterboxed onto the model's square canvas, the
 * expression lower-cased and tokenised to {@code maxTokens}, the four box tokens decoded greedily with the key/value
 * cache, the canvas box taken back to the image ({@link CanvasPlacement}).
 */
final class Grounder {
  /** A batch ready for the decoder: letterboxed images, expressions, and where each image sits on its canvas. */
  record Prepared(Tensor images, TokenBatch texts, List<CanvasPlacement> placements) {}

  private final GroundingHead head;
  private final BertTokenizer tokenizer;
  private final int maxTokens;

  Grounder(GroundingHead head, BertTokenizer tokenizer, int maxTokens) {
    this.head = head;
    this.tokenizer = tokenizer;
    this.maxTokens = maxTokens;
  }

  /** Decodes and letterboxes the images (tensors of the caller's scope). */
  Prepared prepare(List<ImageText> requests, long maxPixels) {
    int canvas = head.model().config().vision().imageRes();
    List<Mat> canvases = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    List<CanvasPlacement> placements = new ArrayList<>();
    try {
      for (ImageText r : requests) {
        try (Mat rgb = r.image().decode(maxPixels)) {
          // the letterbox moves a box with the image; the whole image stands in, the prediction does not see it
          Box whole = new Box(0, 0, rgb.cols(), rgb.rows());
          BoxedImage in = new BoxedImage(rgb, whole, r.text().toLowerCase(Locale.ROOT));
          BoxedImage out = GroundingTransforms.eval(in, canvas);
          canvases.add(out.image());
          texts.add(out.text());
          placements.add(CanvasPlacement.of(out, rgb.cols(), rgb.rows()));
        }
      }
      return new Prepared(ImageBatch.toTensor(canvases), tokenizer.encodeBatch(texts, maxTokens, Padding.LONGEST),
          placements);
    } finally {
      canvases.forEach(Mat::close);
    }
  }

  /** The box of each request (call in eval mode, without gradients). */
  List<BoundingBox> ground(Prepared p) {
    GroundingHead.Prediction prediction = head.decode(p.images(), p.texts().idsTensor(), p.texts().maskTensor(), true);
    float[] boxes = Tensors.toFloats(prediction.boxes());                                   // [B * 4] (cx, cy, w, h)
    List<BoundingBox> out = new ArrayList<>(p.placements().size());
    for (int k = 0; k < p.placements().size(); k++) {
      CanvasPlacement at = p.placements().get(k);
      NormalizedBox b = at.toImage(boxes[4 * k], boxes[4 * k + 1], boxes[4 * k + 2], boxes[4 * k + 3]);
      out.add(new BoundingBox(b.x1(), b.y1(), b.x2(), b.y2(), at.width(), at.height()));
    }
    return out;
  }
}
