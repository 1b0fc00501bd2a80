package dev.mplug.eval.grounding;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Referring-expression grounding accuracy as the official mPLUG evaluation computes it ({@code trans_vg_eval_test} of
 * vgTools in X-PLUG/mPLUG): a prediction is right when its IoU with the annotated box is at least 0.5, after the
 * prediction (not the annotation) is clamped to [0, 1]; accuracy is right / total, a fraction, unrounded. The IoU is
 * {@link NormalizedBox#iou}: float32, xyxy, plain widths (no "+1 pixel"), {@code 1e-16} added to the union.
 *
 * <p>Coordinates: the reference compares boxes normalised over the letterboxed square canvas the model saw; here both
 * are normalised over the original image ({@link NormalizedBox}), so a results file does not depend on the canvas
 * size. A head predicting {@code (cx, cy, w, h)} over an {@code S x S} canvas holding the image scaled by
 * {@code r = S / max(W, H)} at offset {@code (left, top)} writes {@code x1 = ((cx - w / 2) * S - left) / r / W},
 * {@code y1 = ((cy - h / 2) * S - top) / r / H}, and likewise {@code x2, y2} with {@code + w / 2, + h / 2}. IoU is
 * unchanged by that per-axis scaling and shift except for float rounding, with one difference: the reference clamps
 * to the canvas, here to the image. As the annotated box lies inside the image, this only cuts away parts of a
 * prediction that reach into the padding and could never overlap it, so an IoU here is never below the reference's
 * and equal to it for a prediction inside the image.
 */
public final class GroundingAccuracy {
  /** The reference's threshold: IoU >= 0.5 counts. */
  public static final float THRESHOLD = 0.5f;

  /**
   * Accuracy in [0, 1] over {@code count} items; the IoU of each item (by id, in the annotations' order) after the
   * clamp.
   */
  public record Report(double accuracy, int count, Map<String, Float> perItem) {
    public Report {
      perItem = Collections.unmodifiableMap(new LinkedHashMap<>(perItem));
    }
  }

  private GroundingAccuracy() {}

  /** The IoU the reference compares with the threshold: the prediction clamped to [0, 1], the truth as it is. */
  public static float iou(NormalizedBox prediction, NormalizedBox truth) {
    return prediction.clampedToUnit().iou(truth);
  }

  /**
   * Scores {@code predictions} against {@code truth}, both by item id; they must hold the same ids, else an
   * {@link IllegalArgumentException} names a missing or unknown one.
   */
  public static Report score(Map<String, NormalizedBox> truth, Map<String, NormalizedBox> predictions) {
    if (truth.isEmpty()) throw new IllegalArgumentException("no referring expressions to score");
    for (String id : predictions.keySet()) {
      if (!truth.containsKey(id)) throw new IllegalArgumentException("prediction for item " + id + " which has no "
          + "annotated box");
    }
    Map<String, Float> perItem = new LinkedHashMap<>();
    int right = 0;
    for (Map.Entry<String, NormalizedBox> e : truth.entrySet()) {
      NormalizedBox prediction = predictions.get(e.getKey());
      if (prediction == null) throw new IllegalArgumentException("no prediction for item " + e.getKey());
      float iou = iou(prediction, e.getValue());
      if (iou >= THRESHOLD) right++;
      perItem.put(e.getKey(), iou);
    }
    return new Report((double) right / truth.size(), truth.size(), perItem);
  }
}
