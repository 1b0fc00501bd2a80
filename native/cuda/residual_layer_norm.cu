// The fused tail of a BERT output block of native/src/residual_layer_norm.cpp on the GPU, over raw device buffers:
// y = LayerNorm(residual + Dropout(x + bias)) * gamma + beta, for float32 or bfloat16 activations (x, residual, out,
// grad_out, grad_x, grad_residual); bias, gamma, beta, the row statistics and the parameter gradients are float32, and
// all arithmetic is float32. The dropout draw is the CPU kernel's (dropout_hash.h: row key from (seed, row), one draw
// per column), so both devices drop the same values for one seed.
//
//   forward: one block per row; z is staged in shared memory, mean and variance by block reductions (two passes over
//     z, as the CPU kernel does), then y;
//   backward: one block per row for d residual = dz = rstd (g' - mean(g') - xhat mean(g' xhat)) with g' = g gamma,
//     and dx = keep dz / (1 - p); then the column sums d gamma, d beta, d bias over fixed chunks of rows, the chunks
//     added in order, so the result is deterministic (a stream-ordered scratch of 3 x cols floats per chunk).
// native/cuda/check_on_gpu.sh builds this file alone and checks it against PyTorch from Python.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>

#include <string>
#include <type_traits>

#include "../src/dropout_hash.h"
#include "../src/status.h"

namespace {

constexpr int kThreads = 256;   // threads per row block, and columns per block of the column sums

__device__ float load(const float *p, int64_t i) { return p[i]; }
__device__ float load(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }
__device__ void store(float *p, int64_t i, float v) { p[i] = v; }
__device__ void store(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

template <typename T>
struct Problem {
  const T *x, *residual, *grad_out;
  const float *bias, *gamma, *beta;
  T *out, *grad_x, *grad_residual;
  float *mean, *rstd, *grad_bias, *grad_gamma, *grad_beta;
  int64_t rows, cols;
  float dropout, eps;
  uint64_t seed;
};

// The sum of v over the block (every thread gets it); `scratch` holds one float per warp.
__device__ float block_sum(float v, float *scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();   // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < (blockDim.x + 31) / 32; ++w) total += scratch[w];
  return total;
}

// residual + keep(x + bias) / (1 - p) at (i, c), and the factor keep / (1 - p) dx sees.
template <typename T>
__device__ float residual_value(const Problem<T> &p, int64_t i, int64_t c, uint32_t key, uint32_t threshold,
                                float *keep) {
  *keep = p.dropout <= 0.f ? 1.f
          : mplug::dropout::kept(key, static_cast<uint32_t>(c), threshold) ? 1.f / (1.f - p.dropout) : 0.f;
  const int64_t at = i * p.cols + c;
  return load(p.residual, at) + *keep * (load(p.x, at) + p.bias[c]);
}

extern __shared__ float shared[];

template <typename T>
__global__ void forward_kernel(Problem<T> p) {
  const int64_t i = blockIdx.x;
  float *z = shared, *scratch = z + p.cols;
  const uint32_t key = mplug::dropout::row_key(p.seed, static_cast<uint64_t>(i));
  const uint32_t threshold = mplug::dropout::threshold(p.dropout);
  float sum = 0.f;
  for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
    float keep;
    z[c] = residual_value(p, i, c, key, threshold, &keep);
    sum += z[c];
  }
  const float mean = block_sum(sum, scratch) / static_cast<float>(p.cols);
  float squares = 0.f;
  for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) squares += (z[c] - mean) * (z[c] - mean);
  const float rstd = rsqrtf(block_sum(squares, scratch) / static_cast<float>(p.cols) + p.eps);
  for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
    store(p.out, i * p.cols + c, (z[c] - mean) * rstd * p.gamma[c] + p.beta[c]);
  }
  if (threadIdx.x == 0) {
    p.mean[i] = mean;
    p.rstd[i] = rstd;
  }
}

template <typename T>
__global__ void backward_rows_kernel(Problem<T> p) {
  const int64_t i = blockIdx.x;
  float *xhat = shared, *keeps = xhat + p.cols, *scratch = keeps + p.cols;
  const uint32_t key = mplug::dropout::row_key(p.seed, static_cast<uint64_t>(i));
  const uint32_t threshold = mplug::dropout::threshold(p.dropout);
  const float mean = p.mean[i], rstd = p.rstd[i];
  float sum_g = 0.f, sum_gx = 0.f;
  for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
    xhat[c] = (residual_value(p, i, c, key, threshold, &keeps[c]) - mean) * rstd;
    const float g = load(p.grad_out, i * p.cols + c) * p.gamma[c];
    sum_g += g;
    sum_gx += g * xhat[c];
  }
  const float mean_g = block_sum(sum_g, scratch) / static_cast<float>(p.cols);
  const float mean_gx = block_sum(sum_gx, scratch) / static_cast<float>(p.cols);
  for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
    const int64_t at = i * p.cols + c;
    const float dz = rstd * (load(p.grad_out, at) * p.gamma[c] - mean_g - xhat[c] * mean_gx);
    store(p.grad_residual, at, dz);
    store(p.grad_x, at, keeps[c] * dz);
  }
}

// The column sums d gamma = sum g xhat, d beta = sum g, d bias = sum keep dz (dz read back from grad_residual, so in
// bfloat16 it is the rounded value the caller also sees), in two deterministic stages: each (column, chunk of
// kChunkRows rows) thread sums its rows in order into `partials` [chunks, 3, cols]; then one thread per column adds
// the chunks in order.
constexpr int kChunkRows = 16;

template <typename T>
__global__ void backward_partials_kernel(Problem<T> p, float *partials) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  if (c >= p.cols) return;
  const uint32_t threshold = mplug::dropout::threshold(p.dropout);
  float dgamma = 0.f, dbeta = 0.f, dbias = 0.f;
  const int64_t end = min(p.rows, (chunk + 1) * kChunkRows);
  for (int64_t i = chunk * kChunkRows; i < end; ++i) {
    const uint32_t key = mplug::dropout::row_key(p.seed, static_cast<uint64_t>(i));
    float keep;
    const float xhat = (residual_value(p, i, c, key, threshold, &keep) - p.mean[i]) * p.rstd[i];
    const float g = load(p.grad_out, i * p.cols + c);
    dgamma += g * xhat;
    dbeta += g;
    dbias += keep * load(p.grad_residual, i * p.cols + c);
  }
  float *out = partials + chunk * 3 * p.cols;
  out[c] = dgamma;
  out[p.cols + c] = dbeta;
  out[2 * p.cols + c] = dbias;
}

template <typename T>
__global__ void backward_columns_kernel(Problem<T> p, const float *partials, int64_t chunks) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= p.cols) return;
  float dgamma = 0.f, dbeta = 0.f, dbias = 0.f;
  for (int64_t k = 0; k < chunks; ++k) {
    const float *in = partials + k * 3 * p.cols;
    dgamma += in[c];
    dbeta += in[p.cols + c];
    dbias += in[2 * p.cols + c];
  }
  p.grad_gamma[c] = dgamma;
  p.grad_beta[c] = dbeta;
  p.grad_bias[c] = dbias;
}

std::string check(int64_t rows, int64_t cols, float dropout_p, float eps, int32_t dtype) {
  if (rows < 1 || cols < 1) return "rows and cols must be positive";
  if (cols > 12288) return "cols must be at most 12288 (the row is staged in shared memory)";
  if (!(dropout_p >= 0.f && dropout_p < 1.f)) return "dropout_p must be in [0, 1)";
  if (!(eps > 0.f)) return "eps must be positive";
  if (dtype != MPLUG_DTYPE_FLOAT32 && dtype != MPLUG_DTYPE_BFLOAT16) return "dtype must be float32 (0) or bfloat16 (1)";
  return "";
}

int32_t launched(const char *who) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return mplug::fail(MPLUG_ERR_TORCH, std::string(who) + ": " + cudaGetErrorString(err));
  return MPLUG_OK;
}

size_t row_scratch(int64_t cols, int rows_staged) {
  return sizeof(float) * (static_cast<size_t>(cols) * rows_staged + kThreads / 32);
}

template <typename T>
void forward(Problem<T> p, cudaStream_t stream) {
  forward_kernel<T><<<static_cast<unsigned>(p.rows), kThreads, row_scratch(p.cols, 1), stream>>>(p);
}

template <typename T>
cudaError_t backward(Problem<T> p, cudaStream_t stream) {
  backward_rows_kernel<T><<<static_cast<unsigned>(p.rows), kThreads, row_scratch(p.cols, 2), stream>>>(p);
  const int64_t chunks = (p.rows + kChunkRows - 1) / kChunkRows;
  const unsigned column_blocks = static_cast<unsigned>((p.cols + kThreads - 1) / kThreads);
  float *partials = nullptr;
  const cudaError_t err = cudaMallocAsync(&partials, sizeof(float) * 3 * p.cols * chunks, stream);
  if (err != cudaSuccess) return err;
  backward_partials_kernel<T><<<dim3(column_blocks, static_cast<unsigned>(chunks)), kThreads, 0, stream>>>(p, partials);
  backward_columns_kernel<T><<<column_blocks, kThreads, 0, stream>>>(p, partials, chunks);
  return cudaFreeAsync(partials, stream);
}

template <typename T>
Problem<T> problem(const void *x, const float *bias, const void *residual, const float *gamma, const float *beta,
                   int64_t rows, int64_t cols, float dropout_p, uint64_t seed, float eps, float *mean, float *rstd) {
  Problem<T> p{};
  p.x = static_cast<const T *>(x);
  p.residual = static_cast<const T *>(residual);
  p.bias = bias;
  p.gamma = gamma;
  p.beta = beta;
  p.rows = rows;
  p.cols = cols;
  p.dropout = dropout_p;
  p.eps = eps;
  p.seed = seed;
  p.mean = mean;
  p.rstd = rstd;
  return p;
}

}  // namespace

extern "C" {

int32_t mplug_cuda_residual_layer_norm_forward(const void *x, const float *bias, const void *residual,
                                               const float *gamma, const float *beta, int64_t rows, int64_t cols,
                                               int32_t dtype, float dropout_p, uint64_t seed, float eps, void *out,
                                               float *mean, float *rstd, void *stream) {
  mplug::clear_error();
  const std::string e = check(rows, cols, dropout_p, eps, dtype);
  if (!e.empty()) return mplug::fail(MPLUG_ERR_ARGUMENT, "mplug_cuda_residual_layer_norm_forward: " + e);
  auto st = static_cast<cudaStream_t>(stream);
  if (dtype == MPLUG_DTYPE_FLOAT32) {
    auto p = problem<float>(x, bias, residual, gamma, beta, rows, cols, dropout_p, seed, eps, mean, rstd);
    p.out = static_cast<float *>(out);
    forward(p, st);
  } else {
    auto p = problem<__nv_bfloat16>(x, bias, residual, gamma, beta, rows, cols, dropout_p, seed, eps, mean, rstd);
    p.out = static_cast<__nv_bfloat16 *>(out);
    forward(p, st);
  }
  return launched("mplug_cuda_residual_layer_norm_forward");
}

int32_t mplug_cuda_residual_layer_norm_backward(const void *x, const float *bias, const void *residual,
                                                const float *gamma, const float *beta, int64_t rows, int64_t cols,
                                                int32_t dtype, float dropout_p, uint64_t seed, float eps,
                                                const float *mean, const float *rstd, const void *grad_out,
                                                void *grad_x, void *grad_residual, float *grad_bias, float *grad_gamma,
                                                float *grad_beta, void *stream) {
  mplug::clear_error();
  const std::string e = check(rows, cols, dropout_p, eps, dtype);
  if (!e.empty()) return mplug::fail(MPLUG_ERR_ARGUMENT, "mplug_cuda_residual_layer_norm_backward: " + e);
  auto st = static_cast<cudaStream_t>(stream);
  auto fill = [&](auto p) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(p.x)>>;
    p.grad_out = static_cast<const T *>(grad_out);
    p.grad_x = static_cast<T *>(grad_x);
    p.grad_residual = static_cast<T *>(grad_residual);
    p.grad_bias = grad_bias;
    p.grad_gamma = grad_gamma;
    p.grad_beta = grad_beta;
    return backward(p, st);
  };
  // mean and rstd are only read in backward.
  float *m = const_cast<float *>(mean), *r = const_cast<float *>(rstd);
  const cudaError_t err =
      dtype == MPLUG_DTYPE_FLOAT32
          ? fill(problem<float>(x, bias, residual, gamma, beta, rows, cols, dropout_p, seed, eps, m, r))
          : fill(problem<__nv_bfloat16>(x, bias, residual, gamma, beta, rows, cols, dropout_p, seed, eps, m, r));
  if (err != cudaSuccess) {
    return mplug::fail(MPLUG_ERR_TORCH, std::string("mplug_cuda_residual_layer_norm_backward: ") +
                                            cudaGetErrorString(err));
  }
  return launched("mplug_cuda_residual_layer_norm_backward");
}

}  // extern "C"
