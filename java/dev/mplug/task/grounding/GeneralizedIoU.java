package dev.mplug.task.grounding;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Generalized IoU (Rezatofighi et al. 2019) of matching rows of two box tensors, as the official grounding loss
 * weights its tokens with it ({@code generalized_box_iou} of vgTools, diagonal only):
 * {@code IoU = inter / (union + 1e-5)} and {@code GIoU = IoU - (hull - union) / (hull + 1e-5)}, where the hull is the
 * smallest box holding both. GIoU is 1 for equal boxes and tends to -1 for tiny boxes far apart.
 */
public final class GeneralizedIoU {
  /** The reference's guard against an empty union or hull (its comment: a zero-area prediction gave NaN). */
  static final double EPSILON = 1e-5;

  private GeneralizedIoU() {}

  /** {@code (cx, cy, w, h)} -> {@code (x1, y1, x2, y2)}: [..., 4] -> [..., 4]. */
  public static Tensor xyxy(Tensor cxcywh) {
    Tensor centre = cxcywh.narrow(-1, 0, 2);                                  // [..., 2]
    Tensor half = cxcywh.narrow(-1, 2, 2).div(new Scalar(2.0));               // [..., 2]
    return torch.cat(new TensorVector(centre.sub(half), centre.add(half)), -1); // [..., 4]
  }

  /** GIoU of row i of {@code a} with row i of {@code b}: xyxy boxes [B, 4], [B, 4] -> [B]. */
  public static Tensor of(Tensor a, Tensor b) {
    Tensor areaA = area(a);                                                   // [B]
    Tensor areaB = area(b);                                                   // [B]
    Tensor innerLow = torch.max(a.narrow(1, 0, 2), b.narrow(1, 0, 2));        // [B, 2]
    Tensor innerHigh = torch.min(a.narrow(1, 2, 2), b.narrow(1, 2, 2));       // [B, 2]
    Tensor inter = product(innerHigh.sub(innerLow).clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional()));
    Tensor union = areaA.add(areaB).sub(inter);                               // [B]
    Tensor iou = inter.div(union.add(new Scalar(EPSILON)));                   // [B]
    Tensor hullLow = torch.min(a.narrow(1, 0, 2), b.narrow(1, 0, 2));         // [B, 2]
    Tensor hullHigh = torch.max(a.narrow(1, 2, 2), b.narrow(1, 2, 2));        // [B, 2]
    Tensor hull = product(hullHigh.sub(hullLow).clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional()));
    return iou.sub(hull.sub(union).div(hull.add(new Scalar(EPSILON))));       // [B]
  }

  private static Tensor area(Tensor xyxy) {
    return product(xyxy.narrow(1, 2, 2).sub(xyxy.narrow(1, 0, 2)));
  }

  /** width x height of [B, 2] -> [B]. */
  private static Tensor product(Tensor wh) {
    return wh.select(1, 0).mul(wh.select(1, 1));
  }
}
