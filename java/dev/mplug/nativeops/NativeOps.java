package dev.mplug.nativeops;

import static dev.mplug.nativeops.mplug_native_h.C_POINTER;

import dev.mplug.torch.TorchException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;

/**
 * The native extension's ops on JavaCPP tensors. Handles cross as raw {@code at::Tensor*} addresses; every result
 * handle is copied into a JavaCPP-owned {@link Tensor} (a new reference) and the extension's handle freed at once.
 */
public final class NativeOps {
  private NativeOps() {}

  /** {@link #attention(Tensor, Tensor, Tensor, Tensor, double, boolean, double)} without dropout (inference). */
  public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal) {
    return attention(q, k, v, mask, scale, causal, 0.0);
  }

  /**
   * Multi-head attention core: {@code merge_heads(dropout(softmax(q k^T * scale + mask), dropoutP) v)}.
   *
   * @param q [B, H, Tq, d]
   * @param k [B, H, Tk, d]
   * @param v [B, H, Tk, dv]
   * @param mask null or an additive mask broadcastable to [B, H, Tq, Tk]
   * @param causal a causal mask (then {@code mask} must be null), bottom-right aligned: query i sees keys
   *     {@code 0 .. i + (Tk - Tq)}; needs Tq &lt;= Tk
   * @param dropoutP attention-probability dropout in [0, 1) (0 in evaluation), drawn by the fused kernel from
   *     libtorch's default generator of the device: reproducible from the seed, but not the mask the composite path
   *     would draw
   * @return [B, Tq, H*dv], recorded by autograd
   */
  public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, double scale, boolean causal,
      double dropoutP) {
    NativeLibrary.load();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(C_POINTER);
      int rc = mplug_native_h.mplug_attention(handle(q), handle(k), handle(v), mask == null ? MemorySegment.NULL
          : handle(mask), scale, causal ? 1 : 0, dropoutP, out);
      check(rc);
      return adopt(out.get(C_POINTER, 0));
    }
  }

  /**
   * The fused CPU joint attention's forward ({@code mplug_joint_attention_forward}): queries of every query segment over
   * the keys/values of all key segments as if each list were concatenated (segment 0 first), online softmax. A raw
   * kernel: it writes {@code out} and {@code lse} and autograd does not see it ({@code dev.mplug.nn.FusedAttention}
   * wires the gradients).
   *
   * @param q per query segment [B, H, Tq_s, d], float32 CPU, last dimension contiguous (any other strides)
   * @param k per key segment [B, H, Tk_s, d]
   * @param v per key segment [B, H, Tk_s, dv]
   * @param keyMasks null, or per key segment null or an additive float32 [B, Tk_s] mask
   * @param seed the dropout draw's seed (unused when {@code dropoutP} is 0)
   * @param threads worker threads over B x H
   * @param out per query segment [B, H, Tq_s, dv], written
   * @param lse per query segment [B, H, Tq_s], the rows' log-sum-exp, written
   */
  public static void jointAttentionForward(List<Tensor> q, List<Tensor> k, List<Tensor> v, List<Tensor> keyMasks,
      double scale, double dropoutP, long seed, int threads, List<Tensor> out, List<Tensor> lse) {
    NativeLibrary.load();
    try (Arena arena = Arena.ofConfined()) {
      check(mplug_native_h.mplug_joint_attention_forward(handles(arena, q), q.size(), handles(arena, k),
          handles(arena, v), keyMasks == null ? MemorySegment.NULL : handles(arena, keyMasks), k.size(), scale,
          dropoutP, seed, threads, handles(arena, out), handles(arena, lse)));
    }
  }

  /**
   * The gradients of {@link #jointAttentionForward} for the upstream gradients {@code gradOut} (per query segment
   * [B, H, Tq_s, dv]), from the same inputs and the forward's {@code out} and {@code lse}: writes {@code gradQ},
   * {@code gradK}, {@code gradV} (shaped as q, k, v) in full.
   */
  public static void jointAttentionBackward(List<Tensor> q, List<Tensor> k, List<Tensor> v, List<Tensor> keyMasks,
      double scale, double dropoutP, long seed, int threads, List<Tensor> out, List<Tensor> lse, List<Tensor> gradOut,
      List<Tensor> gradQ, List<Tensor> gradK, List<Tensor> gradV) {
    NativeLibrary.load();
    try (Arena arena = Arena.ofConfined()) {
      check(mplug_native_h.mplug_joint_attention_backward(handles(arena, q), q.size(), handles(arena, k),
          handles(arena, v), keyMasks == null ? MemorySegment.NULL : handles(arena, keyMasks), k.size(), scale,
          dropoutP, seed, threads, handles(arena, out), handles(arena, lse), handles(arena, gradOut),
          handles(arena, gradQ), handles(arena, gradK), handles(arena, gradV)));
    }
  }

  /**
   * The fused output-block tail's forward ({@code mplug_residual_layer_norm_forward}): {@code out = LayerNorm(residual
   * + Dropout(x + bias)) * gamma + beta} row by row, dropout drawn from {@code seed}. A raw kernel: it writes
   * {@code out}, {@code mean} and {@code rstd}; autograd does not see it ({@code dev.mplug.nn.ResidualLayerNorm} wires
   * the gradients).
   *
   * @param x [N, C] float32 CPU, rows contiguous
   * @param residual [N, C]
   * @param bias [C]
   * @param gamma [C], LayerNorm's weight
   * @param beta [C], LayerNorm's bias
   * @param out [N, C], written
   * @param mean [N], written
   * @param rstd [N], 1 / std of each row, written
   */
  public static void residualLayerNormForward(Tensor x, Tensor bias, Tensor residual, Tensor gamma, Tensor beta,
      double dropoutP, long seed, double eps, int threads, Tensor out, Tensor mean, Tensor rstd) {
    NativeLibrary.load();
    check(mplug_native_h.mplug_residual_layer_norm_forward(handle(x), handle(bias), handle(residual), handle(gamma),
        handle(beta), dropoutP, seed, eps, threads, handle(out), handle(mean), handle(rstd)));
  }

  /**
   * The gradients of {@link #residualLayerNormForward} for {@code gradOut} ([N, C]), from the same inputs and seed and
   * the forward's {@code mean} and {@code rstd}: writes {@code gradX}, {@code gradResidual} ([N, C]), {@code gradBias},
   * {@code gradGamma}, {@code gradBeta} ([C]) in full.
   */
  public static void residualLayerNormBackward(Tensor x, Tensor bias, Tensor residual, Tensor gamma, Tensor beta,
      double dropoutP, long seed, double eps, int threads, Tensor mean, Tensor rstd, Tensor gradOut, Tensor gradX,
      Tensor gradResidual, Tensor gradBias, Tensor gradGamma, Tensor gradBeta) {
    NativeLibrary.load();
    check(mplug_native_h.mplug_residual_layer_norm_backward(handle(x), handle(bias), handle(residual), handle(gamma),
        handle(beta), dropoutP, seed, eps, threads, handle(mean), handle(rstd), handle(gradOut), handle(gradX),
        handle(gradResidual), handle(gradBias), handle(gradGamma), handle(gradBeta)));
  }

  /** Whether the library was compiled with its CUDA kernels. */
  public static boolean cudaCompiled() {
    NativeLibrary.load();
    return mplug_native_h.mplug_cuda_compiled() == 1;
  }

  /** The C API version of the loaded library. */
  public static int abiVersion() {
    NativeLibrary.load();
    return mplug_native_h.mplug_abi_version();
  }

  /** A C array of the tensors' handles (null entries become NULL), allocated in {@code arena}. */
  static MemorySegment handles(Arena arena, List<Tensor> tensors) {
    MemorySegment array = arena.allocate(C_POINTER, tensors.size());
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      array.setAtIndex(C_POINTER, i, t == null ? MemorySegment.NULL : handle(t));
    }
    return array;
  }

  static MemorySegment handle(Tensor t) {
    if (t == null || t.isNull()) throw new IllegalArgumentException("tensor is null");
    return MemorySegment.ofAddress(t.address());
  }

  /** Turns a non-OK status into a {@link TorchException} carrying the extension's message. */
  static void check(int rc) {
    if (rc == mplug_native_h.MPLUG_OK()) return;
    String message = mplug_native_h.mplug_last_error().getString(0);
    String kind = rc == mplug_native_h.MPLUG_ERR_ARGUMENT() ? "bad argument"
        : rc == mplug_native_h.MPLUG_ERR_UNSUPPORTED() ? "unsupported" : "libtorch error";
    throw new TorchException("native extension (" + kind + ", code " + rc + "): " + message);
  }

  /** Takes a new handle from the extension: JavaCPP copy (refcount + 1), then free the extension's handle. */
  static Tensor adopt(MemorySegment handle) {
    if (handle.equals(MemorySegment.NULL)) throw new TorchException("native extension returned a NULL tensor");
    try {
      Tensor borrowed = new Tensor(new RawPointer(handle.address()));
      return new Tensor(borrowed);
    } finally {
      mplug_native_h.mplug_tensor_free(handle);
    }
  }

  /** A non-owning JavaCPP pointer at a raw address. */
  private static final class RawPointer extends Pointer {
    RawPointer(long address) {
      this.address = address;
    }
  }
}
