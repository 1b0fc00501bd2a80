package dev.mplug.nn;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The tail of a BERT output block, {@code LayerNorm(residual + Dropout(x + bias))}, as one native op
 * ({@code mplug_residual_layer_norm_forward/_backward}): one pass over each row instead of the bias add, dropout (with
 * its mask tensor), residual add and LayerNorm, each reading and writing the whole activation. The dropout mask is a
 * counter-based hash of (seed, row, column): the same seed gives the same mask, and backward redraws it.
 *
 * <p>Autograd as in {@link FusedAttention}: the kernel is raw, so {@link HookedBackward} wires its backward into the
 * graph with tensor hooks (one backward per forward).
 *
 * <p>Precision: every tensor may be float32 or bfloat16 (under bf16 autocast x is a bfloat16 product while the residual
 * and LayerNorm's weights are float32); the kernel computes in float32. The output is bfloat16 when x and the residual
 * both are, else float32, as the composite's {@code residual + x} promotes; each gradient has its input's type.
 */
public final class ResidualLayerNorm {
  private ResidualLayerNorm() {}

  /** Forwards whose backward has not run yet. */
  public static int pendingBackwards() {
    return HookedBackward.pending(ResidualLayerNorm.class);
  }

  /**
   * {@link #apply(Tensor, Tensor, Tensor, Tensor, Tensor, double, double, long)} with the dropout seed drawn from
   * libtorch's default generator (a manual seed reproduces it).
   */
  public static Tensor apply(Tensor x, Tensor bias, Tensor residual, Tensor gamma, Tensor beta, double eps,
      double dropoutP) {
    return apply(x, bias, residual, gamma, beta, eps, dropoutP, dropoutP > 0 ? FusedAttention.drawSeed() : 0);
  }

  /**
   * @param x [..., C] float32 or bfloat16 CPU (e.g. a dense layer's product without its bias)
   * @param bias [C], added to x before dropout
   * @param residual shaped as x
   * @param gamma [C], LayerNorm's weight
   * @param beta [C], LayerNorm's bias
   * @param eps LayerNorm's epsilon
   * @param dropoutP dropout on {@code x + bias}, in [0, 1) (0 in evaluation)
   * @param seed the dropout draw's seed
   * @return {@code LayerNorm(residual + Dropout(x + bias)) * gamma + beta}, shaped as x; bfloat16 when x and residual
   *     are, else float32
   */
  public static Tensor apply(Tensor x, Tensor bias, Tensor residual, Tensor gamma, Tensor beta, double eps,
      double dropoutP, long seed) {
    long c = x.size(x.dim() - 1);
    if (!Arrays.equals(Tensors.shape(x), Tensors.shape(residual))) {
      throw new IllegalArgumentException("residual LayerNorm: x " + Arrays.toString(Tensors.shape(x))
          + " and residual " + Arrays.toString(Tensors.shape(residual)) + " differ in shape");
    }
    for (Tensor v : List.of(bias, gamma, beta)) {
      if (v.dim() != 1 || v.size(0) != c) {
        throw new IllegalArgumentException("residual LayerNorm: bias, gamma and beta must be [" + c + "]; got "
            + Arrays.toString(Tensors.shape(v)));
      }
    }
    if (!(dropoutP >= 0 && dropoutP < 1)) {
      throw new IllegalArgumentException("residual LayerNorm: dropout must be in [0, 1); got " + dropoutP);
    }
    try (TensorScope scope = TensorScope.open()) {
      long n = x.numel() / c;
      Tensor rows = x.detach().reshape(n, c), residualRows = residual.detach().reshape(n, c);   // [N, C]
      boolean bf16 = isBFloat16(x) && isBFloat16(residual);
      Tensor out = bf16 ? x.new_empty(n, c) : torch.empty(n, c), mean = torch.empty(n), rstd = torch.empty(n);
      int threads = torch.get_num_threads();
      NativeOps.residualLayerNormForward(rows, bias.detach(), residualRows, gamma.detach(), beta.detach(), dropoutP,
          seed, eps, threads, out, mean, rstd);
      Tensor y = out.view(x.sizes());

      HookedBackward link = HookedBackward.of(ResidualLayerNorm.class, List.of(x, residual, bias, gamma, beta));
      if (link == null) return scope.keep(y);
      Tensor sx = link.save(rows), sb = link.save(bias), sr = link.save(residualRows), sg = link.save(gamma);
      Tensor sbeta = link.save(beta), smean = link.save(mean), srstd = link.save(rstd);
      long[] shape = Tensors.shape(x);
      Tensor joined = link.join(List.of(y), upstream -> {
        Tensor gradOut = upstream[0] != null ? upstream[0].view(n, c) : torch.zeros(n, c);   // [N, C]
        Tensor gradX = sx.new_empty(n, c), gradResidual = sr.new_empty(n, c);
        Tensor gradBias = sb.new_empty(c), gradGamma = sg.new_empty(c), gradBeta = sbeta.new_empty(c);
        NativeOps.residualLayerNormBackward(sx, sb, sr, sg, sbeta, dropoutP, seed, eps, threads, smean, srstd,
            gradOut, gradX, gradResidual, gradBias, gradGamma, gradBeta);
        return List.of(gradX.view(shape), gradResidual.view(shape), gradBias, gradGamma, gradBeta);
      }).getFirst();
      return scope.keep(joined);
    }
  }

  private static boolean isBFloat16(Tensor t) {
    return t.scalar_type().value == torch.ScalarType.BFloat16.value;   // JavaCPP enums: compare codes
  }
}
