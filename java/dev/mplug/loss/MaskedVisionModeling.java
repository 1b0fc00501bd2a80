package dev.mplug.loss;

import dev.mplug.torch.Tensors;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Masked vision modeling (MVM), an optional fifth pretraining objective (an experiment; the paper has four): a share
 * of the image patches is replaced by a learned mask embedding at the ViT's input, the image goes through the ViT
 * and the fusion with its (unmasked) caption, and a linear head predicts a target for each masked patch from the
 * fusion's visual stream. Two targets:
 * <ul>
 *   <li>{@link Target#PIXELS}: the patch's pixels, each patch normalised to mean 0 and variance 1 (MAE's
 *       normalised-pixel target: a cheap, low-level target that makes the visual stream keep local detail);
 *   <li>{@link Target#MOMENTUM_FEATURES}: the momentum ViT's output token of that patch on the unmasked image,
 *       normalised over its features as data2vec does (a high-level target from the slowly moving teacher
 *       pretraining already keeps, in the spirit of distillation-style MVM such as VL-BEiT's).
 * </ul>
 * The loss is the mean squared error over the target's features, averaged over the masked patches. Masks are drawn
 * from libtorch's default generator (saved in checkpoints, so a resumed run draws the same): either uniformly
 * ({@link MaskShape#RANDOM}) or as rectangles of patches (BEiT's block-wise masking, {@link MaskShape#BLOCK}); either
 * way exactly {@code round(ratio * P)} (at least one) patches per image.
 */
public final class MaskedVisionModeling {
  /** How masked patches are laid out. */
  public enum MaskShape { RANDOM, BLOCK }

  /** What a masked patch is predicted as. */
  public enum Target { PIXELS, MOMENTUM_FEATURES }

  private static final double PIXEL_EPS = 1e-6;
  private static final double FEATURE_EPS = 1e-5;
  private static final int BLOCK_ATTEMPTS = 10;

  private MaskedVisionModeling() {}

  /** The number of patches masked per image: {@code round(ratio * patches)}, at least 1. */
  public static int maskedCount(int patches, double ratio) {
    return (int) Math.max(1, Math.min(patches, Math.round(ratio * patches)));
  }

  /**
   * Drawn on the host from the CPU generator, as the MLM masks are (the same masks whatever the training device);
   * the caller moves the mask to its images' device.
   *
   * @return [B, grid^2] bool on the CPU, true = masked, patches row by row; exactly {@link #maskedCount} per row
   */
  public static Tensor mask(long batch, int grid, double ratio, MaskShape shape) {
    int p = grid * grid;
    int k = maskedCount(p, ratio);
    try (NoGradGuard guard = new NoGradGuard()) {
      if (shape == MaskShape.RANDOM) {
        Tensor order = torch.rand(batch, p).argsort(1, false);                     // a random permutation per row
        Tensor ranks = order.argsort(1, false);                                      // each patch's place in it
        return ranks.lt(Tensors.scalar(k));                                     // [B, P]
      }
      boolean[] masked = new boolean[(int) batch * p];
      for (int b = 0; b < batch; b++) blocks(masked, b * p, grid, k);
      Tensor flags = Tensors.longs(toLongs(masked), batch, p);
      return flags.ne(Tensors.scalar(0));
    }
  }

  /**
   * BEiT's block-wise masking of one image, then uniform patches to reach exactly k: rectangles of area between
   * min(4, still needed) and the number still needed, aspect ratio in [0.3, 1 / 0.3] (log-uniform), placed uniformly;
   * a rectangle is taken when it masks at least one new patch and no more than still needed.
   */
  private static void blocks(boolean[] masked, int offset, int grid, int k) {
    int count = 0;
    boolean progress = true;
    while (count < k && progress) {
      progress = false;
      int needed = k - count;
      for (int attempt = 0; attempt < BLOCK_ATTEMPTS && !progress; attempt++) {
        double[] u = uniforms(4);
        double area = Math.min(4, needed) + u[0] * (needed - Math.min(4, needed));
        double aspect = Math.exp(Math.log(0.3) + u[1] * (Math.log(1 / 0.3) - Math.log(0.3)));
        int h = (int) Math.round(Math.sqrt(area * aspect));
        int w = (int) Math.round(Math.sqrt(area / aspect));
        if (h < 1 || w < 1 || h > grid || w > grid) continue;
        int top = (int) Math.floor(u[2] * (grid - h + 1));
        int left = (int) Math.floor(u[3] * (grid - w + 1));
        int fresh = 0;
        for (int r = top; r < top + h; r++) {
          for (int c = left; c < left + w; c++) fresh += masked[offset + r * grid + c] ? 0 : 1;
        }
        if (fresh == 0 || fresh > needed) continue;
        for (int r = top; r < top + h; r++) {
          for (int c = left; c < left + w; c++) masked[offset + r * grid + c] = true;
        }
        count += fresh;
        progress = true;
      }
    }
    while (count < k) {                                  // top up with uniform patches
      int i = (int) Math.floor(uniforms(1)[0] * grid * grid);
      if (!masked[offset + i]) {
        masked[offset + i] = true;
        count++;
      }
    }
  }

  /** n uniforms in [0, 1) from libtorch's default generator. */
  private static double[] uniforms(int n) {
    float[] f = Tensors.toFloats(torch.rand(n));
    double[] out = new double[n];
    for (int i = 0; i < n; i++) out[i] = Math.min(f[i], Math.nextDown(1.0));
    return out;
  }

  private static long[] toLongs(boolean[] flags) {
    long[] out = new long[flags.length];
    for (int i = 0; i < flags.length; i++) out[i] = flags[i] ? 1 : 0;
    return out;
  }

  /**
   * The pixel target: images [B, 3, R, R] cut into patch x patch squares, row by row, each flattened (channel, row,
   * column) and normalised to mean 0, variance 1 -> [B, P, 3 patch^2].
   */
  public static Tensor pixelTargets(Tensor images, int patch) {
    try (NoGradGuard guard = new NoGradGuard()) {
      long b = images.size(0), g = images.size(2) / patch;
      Tensor rows = images.view(b, 3, g, patch, g, patch).permute(0, 2, 4, 1, 3, 5)
          .reshape(b, g * g, 3L * patch * patch);                               // [B, P, 3 p^2]
      return standardise(rows, PIXEL_EPS);
    }
  }

  /** The feature target: the momentum vision stream [B, 1 + P, H] without its class token, normalised per patch. */
  public static Tensor featureTargets(Tensor momentumVision) {
    try (NoGradGuard guard = new NoGradGuard()) {
      Tensor patches = momentumVision.narrow(1, 1, momentumVision.size(1) - 1);   // [B, P, H]
      return standardise(patches, FEATURE_EPS);
    }
  }

  /** (x - mean) / sqrt(var + eps) over the last dimension (biased variance, as LayerNorm without affine). */
  static Tensor standardise(Tensor x, double eps) {
    Tensor mean = x.mean(new long[] {-1}, true, new ScalarTypeOptional());
    Tensor var = x.var(new long[] {-1}, false, true);
    return x.sub(mean).div(var.add(Tensors.scalar(eps)).sqrt());
  }

  /**
   * @param predictions [B, P, D]
   * @param targets [B, P, D] (no gradient)
   * @param mask [B, P] bool, true = masked
   * @return the mean over masked patches of the mean squared error over D
   */
  public static Tensor loss(Tensor predictions, Tensor targets, Tensor mask) {
    Tensor perPatch = predictions.sub(targets).pow(Tensors.scalar(2)).mean(new long[] {-1}, false,
        new ScalarTypeOptional());                                              // [B, P]
    Tensor weights = mask.to(perPatch.scalar_type());
    return perPatch.mul(weights).sum().div(weights.sum());
  }
}
