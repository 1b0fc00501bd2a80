/*
 * mplug_native: the C API of mPLUG's native extension.
 *
 * Plain C so that jextract can read it; the Java bindings in java/dev/mplug/nativeops/ are generated from this
 * header by jextract/regenerate.sh (or written in the same style where jextract is not installed).
 *
 * Tensors cross the boundary as opaque libtorch handles (an at::Tensor*, which is what a JavaCPP Tensor's
 * address() is). Input handles are BORROWED: the extension never frees or keeps them. Output handles are NEW:
 * the caller owns them and releases each with mplug_tensor_free().
 *
 * Every function that can fail returns a status code (MPLUG_OK or MPLUG_ERR_*); on failure mplug_last_error() describes the problem.
 */
#ifndef MPLUG_NATIVE_H
#define MPLUG_NATIVE_H

#include <stdint.h>

#if defined(MPLUG_NATIVE_EXPORTS) && defined(__GNUC__)
#define MPLUG_API __attribute__((visibility("default")))
#else
#define MPLUG_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* An at::Tensor* owned by libtorch's allocator. */
typedef void *mplug_tensor;

/* Status codes. */
#define MPLUG_OK 0
#define MPLUG_ERR_ARGUMENT 1    /* a shape, dtype or flag the op does not accept */
#define MPLUG_ERR_TORCH 2       /* libtorch raised an error inside an ATen op */
#define MPLUG_ERR_UNSUPPORTED 3 /* the feature was not compiled into this build (e.g. CUDA) */

/* Version of this C API; bumped when a signature or what a function accepts changes (v5: the fused ops take bfloat16
 * tensors as well as float32; the CUDA joint attention takes a dtype and the CUDA residual LayerNorm is added). */
MPLUG_API int32_t mplug_abi_version(void);

/* The message of the last failure on the calling thread ("" if none). Valid until the next call on this thread. */
MPLUG_API const char *mplug_last_error(void);

/* 1 when the library was built with its CUDA sources (cmake -DMPLUG_CUDA=ON), else 0. */
MPLUG_API int32_t mplug_cuda_compiled(void);

/* Release a handle returned by this library. NULL is allowed. */
MPLUG_API void mplug_tensor_free(mplug_tensor t);

/*
 * Multi-head attention core: out = merge_heads(dropout(softmax(q k^T * scale + mask), dropout_p) v).
 *   q: [B, H, Tq, d]; k, v: [B, H, Tk, d] (same dtype and device)
 *   mask: NULL or an additive float mask broadcastable to [B, H, Tq, Tk] (0 keeps, large negative drops)
 *   scale: the score scale (1/sqrt(d) in mPLUG)
 *   causal: 1 for a causal mask (then mask must be NULL), aligned BOTTOM-RIGHT: query i sees keys 0 .. i + (Tk - Tq)
 *     (the queries are the last Tq positions, as in a decoder step over cached keys); needs Tq <= Tk
 *   dropout_p: in [0, 1), the probability of zeroing an attention probability (the kept ones are scaled by
 *     1 / (1 - dropout_p)); drawn from libtorch's default generator of the device; 0 in evaluation
 *   *out: a new handle to [B, Tq, H*d]
 * Runs through libtorch's dispatcher, so autograd records it and gradients flow to q, k, v (and mask).
 */
MPLUG_API int32_t mplug_attention(mplug_tensor q, mplug_tensor k, mplug_tensor v, mplug_tensor mask, double scale,
                                  int32_t causal, double dropout_p, mplug_tensor *out);

/*
 * Joint (segmented) multi-head attention, fused on the CPU: queries from n_query segments attend over the keys and
 * values of n_key segments as if each list were concatenated along the sequence (segment 0 first), without building
 * the concatenation. The connected-attention layer's joint attention is queries [V; L] over keys/values [V; L]
 * (n_query = n_key = 2); the co-attention layer's self- and cross-attention are n_query = n_key = 1.
 * Online (flash-style) softmax: no score matrix is kept; lse (the row log-sum-exp) is what backward needs.
 *   q[s]: [B, H, Tq_s, d]; k[s]: [B, H, Tk_s, d]; v[s]: [B, H, Tk_s, dv]   (CPU, any strides with the last
 *         dimension contiguous, e.g. the head-split view of a [B, T, H*d] projection)
 *   key_mask: NULL, or n_key entries each NULL or an additive [B, Tk_s] mask (0 keeps, -10000 / -1e9 drops)
 *   scale: the score scale (1/sqrt(d)); dropout_p in [0, 1): dropout on the probabilities, the kept ones scaled by
 *     1 / (1 - dropout_p), drawn from a counter-based hash of (seed, row, key) so that backward redraws the same mask
 *   threads: worker threads (libtorch's intra-op thread count); the work is split over B x H
 *   out[s]: [B, H, Tq_s, dv] written (e.g. the head-split view of a [B, Tq_s, H*dv] tensor); lse[s]: [B, H, Tq_s] written
 * Element types: every tensor but lse is float32 or bfloat16, each on its own (the type is read from the tensor); the
 * arithmetic is float32, bfloat16 results are rounded to nearest even; lse is float32.
 * Raw kernel: autograd does not see it. Returns MPLUG_OK or MPLUG_ERR_ARGUMENT (message: mplug_last_error()).
 */
MPLUG_API int32_t mplug_joint_attention_forward(const mplug_tensor *q, int32_t n_query, const mplug_tensor *k,
                                                const mplug_tensor *v, const mplug_tensor *key_mask, int32_t n_key,
                                                double scale, double dropout_p, uint64_t seed, int32_t threads,
                                                const mplug_tensor *out, const mplug_tensor *lse);

/*
 * The gradients of mplug_joint_attention_forward for one upstream gradient grad_out[s] ([B, H, Tq_s, dv]), recomputing
 * the probabilities block by block from the forward's out and lse (same q, k, v, masks, scale, dropout_p and seed).
 * Writes grad_q[s] ([B, H, Tq_s, d]), grad_k[s] ([B, H, Tk_s, d]) and grad_v[s] ([B, H, Tk_s, dv]) in full.
 */
MPLUG_API int32_t mplug_joint_attention_backward(const mplug_tensor *q, int32_t n_query, const mplug_tensor *k,
                                                 const mplug_tensor *v, const mplug_tensor *key_mask, int32_t n_key,
                                                 double scale, double dropout_p, uint64_t seed, int32_t threads,
                                                 const mplug_tensor *out, const mplug_tensor *lse,
                                                 const mplug_tensor *grad_out, const mplug_tensor *grad_q,
                                                 const mplug_tensor *grad_k, const mplug_tensor *grad_v);

/*
 * The tail of a BERT output block in one pass over each row: out = LayerNorm(residual + Dropout(x + bias)) * gamma
 * + beta, fused on the CPU.
 *   x, residual, out: [N, C] CPU (rows with any stride, each row contiguous); bias, gamma, beta: [C]
 *   dropout_p in [0, 1): the kept values scaled by 1 / (1 - dropout_p), drawn from the counter-based hash of the
 *     attention kernels on (seed, row, column), so backward redraws the same mask; eps: LayerNorm's epsilon
 *   threads: worker threads over blocks of rows; mean, rstd: [N] written (each row's mean and 1 / std, for backward)
 * Element types: every tensor but mean and rstd is float32 or bfloat16, each on its own (under autocast x is a bfloat16
 * product, the rest float32); the arithmetic is float32, bfloat16 results are rounded to nearest even; mean and rstd
 * are float32.
 * Raw kernel: autograd does not see it. Returns MPLUG_OK or MPLUG_ERR_ARGUMENT (message: mplug_last_error()).
 */
MPLUG_API int32_t mplug_residual_layer_norm_forward(mplug_tensor x, mplug_tensor bias, mplug_tensor residual,
                                                    mplug_tensor gamma, mplug_tensor beta, double dropout_p,
                                                    uint64_t seed, double eps, int32_t threads, mplug_tensor out,
                                                    mplug_tensor mean, mplug_tensor rstd);

/*
 * The gradients of mplug_residual_layer_norm_forward for the upstream gradient grad_out ([N, C]), from the same
 * inputs, seed and the forward's mean and rstd: writes grad_x and grad_residual ([N, C]) and grad_bias, grad_gamma,
 * grad_beta ([C]) in full. The column sums are added in a fixed order: the result does not depend on threads.
 */
MPLUG_API int32_t mplug_residual_layer_norm_backward(mplug_tensor x, mplug_tensor bias, mplug_tensor residual,
                                                     mplug_tensor gamma, mplug_tensor beta, double dropout_p,
                                                     uint64_t seed, double eps, int32_t threads, mplug_tensor mean,
                                                     mplug_tensor rstd, mplug_tensor grad_out, mplug_tensor grad_x,
                                                     mplug_tensor grad_residual, mplug_tensor grad_bias,
                                                     mplug_tensor grad_gamma, mplug_tensor grad_beta);

/*
 * CUDA kernel (only in CUDA builds; MPLUG_ERR_UNSUPPORTED otherwise): row-wise softmax(scores * scale + mask)
 * over device buffers. scores/out: [rows, cols] float32; mask: [rows / rows_per_mask, cols] float32 or NULL,
 * so one mask row serves rows_per_mask consecutive score rows (the heads and queries of one sample).
 * stream: a cudaStream_t or NULL for the default stream.
 */
MPLUG_API int32_t mplug_cuda_masked_softmax(const float *scores, const float *mask, float *out, int64_t rows,
                                            int64_t cols, int64_t rows_per_mask, float scale, void *stream);

/* Element types of the CUDA kernels' activation buffers. */
#define MPLUG_DTYPE_FLOAT32 0
#define MPLUG_DTYPE_BFLOAT16 1

/*
 * CUDA kernels of the joint attention (only in CUDA builds; MPLUG_ERR_UNSUPPORTED otherwise), over contiguous device
 * buffers, for up to 4 segments and head sizes up to 128; the same arithmetic and dropout draw as the CPU op.
 *   q[s]: [B, H, q_len[s], d]; k[s]: [B, H, k_len[s], d]; v[s]: [B, H, k_len[s], dv]; out[s]: [B, H, q_len[s], dv],
 *   of `dtype` (MPLUG_DTYPE_FLOAT32 or MPLUG_DTYPE_BFLOAT16; arithmetic in float32); mask: NULL, or per key segment
 *   NULL or an additive float32 [B, k_len[s]]; lse[s]: float32 [B, H, q_len[s]] written (the pointer arrays and
 *   lengths live in host memory); stream: a cudaStream_t or NULL.
 * Backward also needs delta[s]: a float32 [B, H, q_len[s]] scratch buffer, and writes grad_q/grad_k/grad_v (of
 * `dtype`) in full. native/cuda/check_on_gpu.sh checks both against PyTorch on a CUDA machine.
 */
MPLUG_API int32_t mplug_cuda_joint_attention_forward(const void *const *q, const int64_t *q_len, int32_t n_query,
                                                     const void *const *k, const void *const *v,
                                                     const float *const *mask, const int64_t *k_len, int32_t n_key,
                                                     int64_t batch, int64_t heads, int64_t d, int64_t dv, int32_t dtype,
                                                     float scale, float dropout_p, uint64_t seed, void *const *out,
                                                     float *const *lse, void *stream);

MPLUG_API int32_t mplug_cuda_joint_attention_backward(const void *const *q, const int64_t *q_len, int32_t n_query,
                                                      const void *const *k, const void *const *v,
                                                      const float *const *mask, const int64_t *k_len, int32_t n_key,
                                                      int64_t batch, int64_t heads, int64_t d, int64_t dv,
                                                      int32_t dtype, float scale, float dropout_p, uint64_t seed,
                                                      const void *const *out, const float *const *lse,
                                                      const void *const *grad_out, float *const *delta,
                                                      void *const *grad_q, void *const *grad_k, void *const *grad_v,
                                                      void *stream);

/*
 * CUDA kernels of mplug_residual_layer_norm_forward / _backward (only in CUDA builds; MPLUG_ERR_UNSUPPORTED
 * otherwise), over contiguous device buffers: x, residual, out, grad_out, grad_x, grad_residual are [rows, cols] of
 * `dtype` (MPLUG_DTYPE_FLOAT32 or MPLUG_DTYPE_BFLOAT16); bias, gamma, beta, grad_bias, grad_gamma, grad_beta are
 * float32 [cols]; mean and rstd float32 [rows]; arithmetic in float32; cols at most 12288. The dropout draw is the
 * CPU op's, so both devices drop the same values for one seed; the column sums are added in row order
 * (deterministic). stream: a cudaStream_t or NULL.
 */
MPLUG_API int32_t mplug_cuda_residual_layer_norm_forward(const void *x, const float *bias, const void *residual,
                                                         const float *gamma, const float *beta, int64_t rows,
                                                         int64_t cols, int32_t dtype, float dropout_p, uint64_t seed,
                                                         float eps, void *out, float *mean, float *rstd, void *stream);

MPLUG_API int32_t mplug_cuda_residual_layer_norm_backward(const void *x, const float *bias, const void *residual,
                                                          const float *gamma, const float *beta, int64_t rows,
                                                          int64_t cols, int32_t dtype, float dropout_p, uint64_t seed,
                                                          float eps, const float *mean, const float *rstd,
                                                          const void *grad_out, void *grad_x, void *grad_residual,
                                                          float *grad_bias, float *grad_gamma, float *grad_beta,
                                                          void *stream);

#ifdef __cplusplus
}
#endif

#endif /* MPLUG_NATIVE_H */
