package dev.mplug.nn;

import dev.mplug.nativeops.NativeOps;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.global.torch;

/**
 * The tail of a BERT output block, {@code LayerNorm(residual + Dropout(x + bias))}, as one native op
 * ({@code mplug_residual_layer_norm_forward/_backward}): one pass over each row instead of the bias add, dropout (with
 * its mask tensor), residual add and LayerNorm, each reading and writing the whole activation. The dropout mask is a
 * counter-based hash of (seed, row, column): the same seed gives the same mask, and backward redraws it.
 *
 * <p>Autograd as in {@link FusedAttention}: the kernel is raw, so the output is joined to every input that requires
 * grad by a zero-cost term, a hook on the output records its gradient, and hooks on fresh views of the inputs run the
 * fused backward once and hand each input its gradient. One backward per forward.
 */
public final class ResidualLayerNorm {
  /** The state of forwards awaiting their backward: keeps the hooks (native callbacks) reachable. */
  private static final Set<Backward> PENDING = Collections.synchronizedSet(Collections.newSetFromMap(
      new IdentityHashMap<>()));

  private ResidualLayerNorm() {}

  /** Forwards whose backward has not run yet. */
  public static int pendingBackwards() {
    return PENDING.size();
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
   * @param x [..., C] float32 CPU (e.g. a dense layer's product without its bias)
   * @param bias [C], added to x before dropout
   * @param residual shaped as x
   * @param gamma [C], LayerNorm's weight
   * @param beta [C], LayerNorm's bias
   * @param eps LayerNorm's epsilon
   * @param dropoutP dropout on {@code x + bias}, in [0, 1) (0 in evaluation)
   * @param seed the dropout draw's seed
   * @return {@code LayerNorm(residual + Dropout(x + bias)) * gamma + beta}, shaped as x
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
      List<Tensor> inputs = List.of(x, residual, bias, gamma, beta);
      Tensor rows = x.detach().reshape(n, c), residualRows = residual.detach().reshape(n, c);   // [N, C]
      Tensor out = x.new_empty(n, c), mean = x.new_empty(n), rstd = x.new_empty(n);
      int threads = torch.get_num_threads();
      NativeOps.residualLayerNormForward(rows, bias.detach(), residualRows, gamma.detach(), beta.detach(), dropoutP,
          seed, eps, threads, out, mean, rstd);
      Tensor y = out.view(x.sizes());

      List<Tensor> views = new ArrayList<>();   // fresh views of the inputs requiring grad: this graph's hooks only
      Tensor zero = null;                       // 0, depending on every input that requires grad
      for (Tensor input : inputs) {
        boolean grad = GradMode.is_enabled() && input.requires_grad();
        Tensor view = grad ? input.view_as(input) : null;
        views.add(view);
        if (view != null) {
          Tensor none = view.narrow(view.dim() - 1, 0, 0).sum();
          zero = zero == null ? none : zero.add(none);
        }
      }
      if (zero == null) return scope.keep(y);
      Backward backward = new Backward(List.of(rows, bias, residualRows, gamma, beta), dropoutP, seed, eps, threads,
          mean, rstd);
      Tensor joined = y.add(zero);
      backward.captureGradientOf(joined);
      for (int i = 0; i < views.size(); i++) {
        if (views.get(i) != null) backward.deliverTo(views.get(i), i);
      }
      PENDING.add(backward);
      return scope.keep(joined);
    }
  }

  /** One forward's saved inputs and hooks, alive until its backward has delivered every input's gradient. */
  private static final class Backward {
    // saved: x [N, C], bias, residual [N, C], gamma, beta; gradients in the order of apply's inputs
    private final List<Tensor> saved;
    private final Tensor mean, rstd;
    private final double dropoutP, eps;
    private final long seed;
    private final int threads;
    private final List<Pointer> hooks = new ArrayList<>();
    private Tensor upstream;
    private List<Tensor> grads;   // x, residual, bias, gamma, beta
    private int undelivered;

    Backward(List<Tensor> saved, double dropoutP, long seed, double eps, int threads, Tensor mean, Tensor rstd) {
      this.saved = new ArrayList<>();
      for (Tensor t : saved) this.saved.add(Handles.own(t.detach()));
      this.mean = Handles.own(new Tensor(mean));
      this.rstd = Handles.own(new Tensor(rstd));
      this.dropoutP = dropoutP;
      this.seed = seed;
      this.eps = eps;
      this.threads = threads;
    }

    void captureGradientOf(Tensor y) {
      VoidTensorHook hook = new VoidTensorHook() {
        @Override
        public void call(TensorBase grad) {
          upstream = Handles.own(new Tensor(grad).contiguous());
        }
      };
      hooks.add(Handles.own(hook));   // a native callback: out of the scope, or closing it would free the callback
      y.register_hook(hook);
    }

    /** Hooks {@code view} (a fresh view of input {@code index} of apply, used only here) to receive its gradient. */
    void deliverTo(Tensor view, int index) {
      undelivered++;
      long[] shape = Tensors.shape(view);
      TensorTensorHook hook = new TensorTensorHook() {
        private Tensor result;   // held until the next call or collection: libtorch copies it after call returns

        @Override
        public TensorBase call(TensorBase ignored) {
          try (TensorScope scope = TensorScope.open()) {
            if (grads == null) runBackward();
            result = Handles.own(grads.get(index).view(shape));   // what reached the view is the join's zero
            if (--undelivered == 0) release();
            return result;
          }
        }
      };
      hooks.add(Handles.own(hook));
      view.register_hook(hook);
    }

    private void runBackward() {
      Tensor x = saved.get(0), bias = saved.get(1), residual = saved.get(2), gamma = saved.get(3), beta = saved.get(4);
      Tensor gradOut = upstream != null ? upstream.view(x.sizes()) : torch.zeros_like(x);   // [N, C]
      Tensor gradX = x.new_empty(x.sizes()), gradResidual = x.new_empty(x.sizes());
      Tensor gradBias = bias.new_empty(bias.sizes()), gradGamma = gamma.new_empty(gamma.sizes());
      Tensor gradBeta = beta.new_empty(beta.sizes());
      NativeOps.residualLayerNormBackward(x, bias, residual, gamma, beta, dropoutP, seed, eps, threads, mean, rstd,
          gradOut, gradX, gradResidual, gradBias, gradGamma, gradBeta);
      grads = new ArrayList<>();
      for (Tensor g : List.of(gradX, gradResidual, gradBias, gradGamma, gradBeta)) grads.add(Handles.own(g));
    }

    private void release() {
      for (Tensor t : saved) Handles.release(t);
      for (Tensor t : grads) Handles.release(t);
      Handles.release(mean, rstd, upstream);
      PENDING.remove(this);
    }
  }
}
