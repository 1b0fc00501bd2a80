// Bindings for jextract/mplug_native.h in jextract's style (one final class per header, a nested holder class per
// function with its FunctionDescriptor, address and MethodHandle). Regenerate with jextract/regenerate.sh; do not
// edit by hand beyond what that script produces.
package dev.mplug.nativeops;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

@SuppressWarnings({"unused", "checkstyle:TypeName"})
public final class mplug_native_h {
  mplug_native_h() {}

  // The library is System.load()-ed by NativeLibrary after JavaCPP has loaded libtorch; symbols come from the
  // class loader's libraries.
  static final SymbolLookup SYMBOL_LOOKUP =
      SymbolLookup.loaderLookup().or(Linker.nativeLinker().defaultLookup());

  public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
  public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
  public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
  public static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;
  public static final AddressLayout C_POINTER =
      ValueLayout.ADDRESS.withTargetLayout(java.lang.foreign.MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

  static MemorySegment findOrThrow(String symbol) {
    return SYMBOL_LOOKUP.find(symbol)
        .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
  }

  private static final int MPLUG_OK = (int) 0L;

  /** {@snippet lang=c : #define MPLUG_OK 0 } */
  public static int MPLUG_OK() {
    return MPLUG_OK;
  }

  private static final int MPLUG_ERR_ARGUMENT = (int) 1L;

  /** {@snippet lang=c : #define MPLUG_ERR_ARGUMENT 1 } */
  public static int MPLUG_ERR_ARGUMENT() {
    return MPLUG_ERR_ARGUMENT;
  }

  private static final int MPLUG_ERR_TORCH = (int) 2L;

  /** {@snippet lang=c : #define MPLUG_ERR_TORCH 2 } */
  public static int MPLUG_ERR_TORCH() {
    return MPLUG_ERR_TORCH;
  }

  private static final int MPLUG_ERR_UNSUPPORTED = (int) 3L;

  /** {@snippet lang=c : #define MPLUG_ERR_UNSUPPORTED 3 } */
  public static int MPLUG_ERR_UNSUPPORTED() {
    return MPLUG_ERR_UNSUPPORTED;
  }

  private static final int MPLUG_DTYPE_FLOAT32 = (int) 0L;

  /** {@snippet lang=c : #define MPLUG_DTYPE_FLOAT32 0 } */
  public static int MPLUG_DTYPE_FLOAT32() {
    return MPLUG_DTYPE_FLOAT32;
  }

  private static final int MPLUG_DTYPE_BFLOAT16 = (int) 1L;

  /** {@snippet lang=c : #define MPLUG_DTYPE_BFLOAT16 1 } */
  public static int MPLUG_DTYPE_BFLOAT16() {
    return MPLUG_DTYPE_BFLOAT16;
  }

  private static class mplug_abi_version {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_abi_version");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /** {@snippet lang=c : int32_t mplug_abi_version(void) } */
  public static int mplug_abi_version() {
    var mh$ = mplug_abi_version.HANDLE;
    try {
      return (int) mh$.invokeExact();
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_last_error {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_last_error");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /** {@snippet lang=c : const char *mplug_last_error(void) } */
  public static MemorySegment mplug_last_error() {
    var mh$ = mplug_last_error.HANDLE;
    try {
      return (MemorySegment) mh$.invokeExact();
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_cuda_compiled {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_cuda_compiled");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /** {@snippet lang=c : int32_t mplug_cuda_compiled(void) } */
  public static int mplug_cuda_compiled() {
    var mh$ = mplug_cuda_compiled.HANDLE;
    try {
      return (int) mh$.invokeExact();
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_tensor_free {
    public static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_tensor_free");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /** {@snippet lang=c : void mplug_tensor_free(mplug_tensor t) } */
  public static void mplug_tensor_free(MemorySegment t) {
    var mh$ = mplug_tensor_free.HANDLE;
    try {
      mh$.invokeExact(t);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_attention {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_DOUBLE, mplug_native_h.C_INT, mplug_native_h.C_DOUBLE, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_attention");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_attention(mplug_tensor q, mplug_tensor k, mplug_tensor v, mplug_tensor mask, double scale,
   *                         int32_t causal, double dropout_p, mplug_tensor *out)
   * }
   */
  public static int mplug_attention(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask,
      double scale, int causal, double dropout_p, MemorySegment out) {
    var mh$ = mplug_attention.HANDLE;
    try {
      return (int) mh$.invokeExact(q, k, v, mask, scale, causal, dropout_p, out);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_joint_attention_forward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_INT, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_INT, mplug_native_h.C_DOUBLE, mplug_native_h.C_DOUBLE,
        mplug_native_h.C_LONG, mplug_native_h.C_INT, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_joint_attention_forward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_joint_attention_forward(const mplug_tensor *q, int32_t n_query, const mplug_tensor *k,
   *                                       const mplug_tensor *v, const mplug_tensor *key_mask, int32_t n_key,
   *                                       double scale, double dropout_p, uint64_t seed, int32_t threads,
   *                                       const mplug_tensor *out, const mplug_tensor *lse)
   * }
   */
  public static int mplug_joint_attention_forward(MemorySegment q, int n_query, MemorySegment k, MemorySegment v,
      MemorySegment key_mask, int n_key, double scale, double dropout_p, long seed, int threads, MemorySegment out,
      MemorySegment lse) {
    var mh$ = mplug_joint_attention_forward.HANDLE;
    try {
      return (int) mh$.invokeExact(q, n_query, k, v, key_mask, n_key, scale, dropout_p, seed, threads, out, lse);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_joint_attention_backward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_INT, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_INT, mplug_native_h.C_DOUBLE, mplug_native_h.C_DOUBLE,
        mplug_native_h.C_LONG, mplug_native_h.C_INT, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_joint_attention_backward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_joint_attention_backward(const mplug_tensor *q, int32_t n_query, const mplug_tensor *k,
   *                                        const mplug_tensor *v, const mplug_tensor *key_mask, int32_t n_key,
   *                                        double scale, double dropout_p, uint64_t seed, int32_t threads,
   *                                        const mplug_tensor *out, const mplug_tensor *lse,
   *                                        const mplug_tensor *grad_out, const mplug_tensor *grad_q,
   *                                        const mplug_tensor *grad_k, const mplug_tensor *grad_v)
   * }
   */
  public static int mplug_joint_attention_backward(MemorySegment q, int n_query, MemorySegment k, MemorySegment v,
      MemorySegment key_mask, int n_key, double scale, double dropout_p, long seed, int threads, MemorySegment out,
      MemorySegment lse, MemorySegment grad_out, MemorySegment grad_q, MemorySegment grad_k, MemorySegment grad_v) {
    var mh$ = mplug_joint_attention_backward.HANDLE;
    try {
      return (int) mh$.invokeExact(q, n_query, k, v, key_mask, n_key, scale, dropout_p, seed, threads, out, lse,
          grad_out, grad_q, grad_k, grad_v);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_residual_layer_norm_forward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_DOUBLE, mplug_native_h.C_LONG, mplug_native_h.C_DOUBLE,
        mplug_native_h.C_INT, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_residual_layer_norm_forward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_residual_layer_norm_forward(mplug_tensor x, mplug_tensor bias, mplug_tensor residual,
   *                                           mplug_tensor gamma, mplug_tensor beta, double dropout_p,
   *                                           uint64_t seed, double eps, int32_t threads, mplug_tensor out,
   *                                           mplug_tensor mean, mplug_tensor rstd)
   * }
   */
  public static int mplug_residual_layer_norm_forward(MemorySegment x, MemorySegment bias, MemorySegment residual,
      MemorySegment gamma, MemorySegment beta, double dropout_p, long seed, double eps, int threads,
      MemorySegment out, MemorySegment mean, MemorySegment rstd) {
    var mh$ = mplug_residual_layer_norm_forward.HANDLE;
    try {
      return (int) mh$.invokeExact(x, bias, residual, gamma, beta, dropout_p, seed, eps, threads, out, mean, rstd);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_residual_layer_norm_backward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_DOUBLE, mplug_native_h.C_LONG, mplug_native_h.C_DOUBLE,
        mplug_native_h.C_INT, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_residual_layer_norm_backward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_residual_layer_norm_backward(mplug_tensor x, mplug_tensor bias, mplug_tensor residual,
   *                                            mplug_tensor gamma, mplug_tensor beta, double dropout_p,
   *                                            uint64_t seed, double eps, int32_t threads, mplug_tensor mean,
   *                                            mplug_tensor rstd, mplug_tensor grad_out, mplug_tensor grad_x,
   *                                            mplug_tensor grad_residual, mplug_tensor grad_bias,
   *                                            mplug_tensor grad_gamma, mplug_tensor grad_beta)
   * }
   */
  public static int mplug_residual_layer_norm_backward(MemorySegment x, MemorySegment bias, MemorySegment residual,
      MemorySegment gamma, MemorySegment beta, double dropout_p, long seed, double eps, int threads,
      MemorySegment mean, MemorySegment rstd, MemorySegment grad_out, MemorySegment grad_x,
      MemorySegment grad_residual, MemorySegment grad_bias, MemorySegment grad_gamma, MemorySegment grad_beta) {
    var mh$ = mplug_residual_layer_norm_backward.HANDLE;
    try {
      return (int) mh$.invokeExact(x, bias, residual, gamma, beta, dropout_p, seed, eps, threads, mean, rstd,
          grad_out, grad_x, grad_residual, grad_bias, grad_gamma, grad_beta);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_cuda_masked_softmax {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_LONG,
        mplug_native_h.C_LONG, mplug_native_h.C_LONG, mplug_native_h.C_FLOAT, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_cuda_masked_softmax");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_cuda_masked_softmax(const float *scores, const float *mask, float *out, int64_t rows,
   *                                   int64_t cols, int64_t rows_per_mask, float scale, void *stream)
   * }
   */
  public static int mplug_cuda_masked_softmax(MemorySegment scores, MemorySegment mask, MemorySegment out, long rows,
      long cols, long rows_per_mask, float scale, MemorySegment stream) {
    var mh$ = mplug_cuda_masked_softmax.HANDLE;
    try {
      return (int) mh$.invokeExact(scores, mask, out, rows, cols, rows_per_mask, scale, stream);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_cuda_joint_attention_forward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_INT, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_INT,
        mplug_native_h.C_LONG, mplug_native_h.C_LONG, mplug_native_h.C_LONG, mplug_native_h.C_LONG,
        mplug_native_h.C_INT, mplug_native_h.C_FLOAT, mplug_native_h.C_FLOAT, mplug_native_h.C_LONG,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_cuda_joint_attention_forward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_cuda_joint_attention_forward(const void *const *q, const int64_t *q_len, int32_t n_query,
   *     const void *const *k, const void *const *v, const float *const *mask, const int64_t *k_len, int32_t n_key,
   *     int64_t batch, int64_t heads, int64_t d, int64_t dv, int32_t dtype, float scale, float dropout_p,
   *     uint64_t seed, void *const *out, float *const *lse, void *stream)
   * }
   */
  public static int mplug_cuda_joint_attention_forward(MemorySegment q, MemorySegment q_len, int n_query,
      MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment k_len, int n_key, long batch, long heads,
      long d, long dv, int dtype, float scale, float dropout_p, long seed, MemorySegment out, MemorySegment lse,
      MemorySegment stream) {
    var mh$ = mplug_cuda_joint_attention_forward.HANDLE;
    try {
      return (int) mh$.invokeExact(q, q_len, n_query, k, v, mask, k_len, n_key, batch, heads, d, dv, dtype, scale, dropout_p, seed, out, lse, stream);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_cuda_joint_attention_backward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_INT, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_INT,
        mplug_native_h.C_LONG, mplug_native_h.C_LONG, mplug_native_h.C_LONG, mplug_native_h.C_LONG,
        mplug_native_h.C_INT, mplug_native_h.C_FLOAT, mplug_native_h.C_FLOAT, mplug_native_h.C_LONG,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_cuda_joint_attention_backward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_cuda_joint_attention_backward(const void *const *q, const int64_t *q_len, int32_t n_query,
   *     const void *const *k, const void *const *v, const float *const *mask, const int64_t *k_len, int32_t n_key,
   *     int64_t batch, int64_t heads, int64_t d, int64_t dv, int32_t dtype, float scale, float dropout_p,
   *     uint64_t seed, const void *const *out, const float *const *lse, const void *const *grad_out,
   *     float *const *delta, void *const *grad_q, void *const *grad_k, void *const *grad_v, void *stream)
   * }
   */
  public static int mplug_cuda_joint_attention_backward(MemorySegment q, MemorySegment q_len, int n_query,
      MemorySegment k, MemorySegment v, MemorySegment mask, MemorySegment k_len, int n_key, long batch, long heads,
      long d, long dv, int dtype, float scale, float dropout_p, long seed, MemorySegment out, MemorySegment lse,
      MemorySegment grad_out, MemorySegment delta, MemorySegment grad_q, MemorySegment grad_k, MemorySegment grad_v,
      MemorySegment stream) {
    var mh$ = mplug_cuda_joint_attention_backward.HANDLE;
    try {
      return (int) mh$.invokeExact(q, q_len, n_query, k, v, mask, k_len, n_key, batch, heads, d, dv, dtype, scale, dropout_p, seed, out, lse, grad_out, delta, grad_q, grad_k, grad_v, stream);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_cuda_residual_layer_norm_forward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_LONG, mplug_native_h.C_LONG, mplug_native_h.C_INT,
        mplug_native_h.C_FLOAT, mplug_native_h.C_LONG, mplug_native_h.C_FLOAT, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_cuda_residual_layer_norm_forward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_cuda_residual_layer_norm_forward(const void *x, const float *bias, const void *residual,
   *     const float *gamma, const float *beta, int64_t rows, int64_t cols, int32_t dtype, float dropout_p,
   *     uint64_t seed, float eps, void *out, float *mean, float *rstd, void *stream)
   * }
   */
  public static int mplug_cuda_residual_layer_norm_forward(MemorySegment x, MemorySegment bias, MemorySegment residual,
      MemorySegment gamma, MemorySegment beta, long rows, long cols, int dtype, float dropout_p, long seed, float eps,
      MemorySegment out, MemorySegment mean, MemorySegment rstd, MemorySegment stream) {
    var mh$ = mplug_cuda_residual_layer_norm_forward.HANDLE;
    try {
      return (int) mh$.invokeExact(x, bias, residual, gamma, beta, rows, cols, dtype, dropout_p, seed, eps, out, mean, rstd, stream);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }

  private static class mplug_cuda_residual_layer_norm_backward {
    public static final FunctionDescriptor DESC = FunctionDescriptor.of(mplug_native_h.C_INT,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_LONG, mplug_native_h.C_LONG, mplug_native_h.C_INT,
        mplug_native_h.C_FLOAT, mplug_native_h.C_LONG, mplug_native_h.C_FLOAT, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER,
        mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER, mplug_native_h.C_POINTER);
    public static final MemorySegment ADDR = mplug_native_h.findOrThrow("mplug_cuda_residual_layer_norm_backward");
    public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
  }

  /**
   * {@snippet lang=c :
   * int32_t mplug_cuda_residual_layer_norm_backward(const void *x, const float *bias, const void *residual,
   *     const float *gamma, const float *beta, int64_t rows, int64_t cols, int32_t dtype, float dropout_p,
   *     uint64_t seed, float eps, const float *mean, const float *rstd, const void *grad_out, void *grad_x,
   *     void *grad_residual, float *grad_bias, float *grad_gamma, float *grad_beta, void *stream)
   * }
   */
  public static int mplug_cuda_residual_layer_norm_backward(MemorySegment x, MemorySegment bias,
      MemorySegment residual, MemorySegment gamma, MemorySegment beta, long rows, long cols, int dtype,
      float dropout_p, long seed, float eps, MemorySegment mean, MemorySegment rstd, MemorySegment grad_out,
      MemorySegment grad_x, MemorySegment grad_residual, MemorySegment grad_bias, MemorySegment grad_gamma,
      MemorySegment grad_beta, MemorySegment stream) {
    var mh$ = mplug_cuda_residual_layer_norm_backward.HANDLE;
    try {
      return (int) mh$.invokeExact(x, bias, residual, gamma, beta, rows, cols, dtype, dropout_p, seed, eps, mean, rstd, grad_out, grad_x, grad_residual, grad_bias, grad_gamma, grad_beta, stream);
    } catch (Throwable ex$) {
      throw new AssertionError("should not reach here", ex$);
    }
  }
}
