// Row-wise softmax(scores * scale + mask) on the GPU: the probability step of mPLUG's attention with its additive
// key mask (text keys -10000, image keys -1e9). One block per row; the row max and sum are reduced in shared memory,
// in float32 whatever the row length.
#include <cuda_runtime.h>
#include <math.h>

#include <string>

#include "../src/status.h"

namespace {

constexpr int kThreads = 256;

__device__ float block_reduce(float v, float *shared, bool is_max) {
  const int lane = threadIdx.x;
  shared[lane] = v;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (lane < stride) {
      const float other = shared[lane + stride];
      shared[lane] = is_max ? fmaxf(shared[lane], other) : shared[lane] + other;
    }
    __syncthreads();
  }
  const float r = shared[0];
  __syncthreads();
  return r;
}

__global__ void masked_softmax_kernel(const float *__restrict__ scores, const float *__restrict__ mask,
                                      float *__restrict__ out, int64_t cols, int64_t rows_per_mask, float scale) {
  __shared__ float shared[kThreads];
  const int64_t row = blockIdx.x;
  const float *s = scores + row * cols;
  const float *m = mask != nullptr ? mask + (row / rows_per_mask) * cols : nullptr;
  float *o = out + row * cols;

  float local_max = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float x = s[c] * scale + (m != nullptr ? m[c] : 0.0f);
    local_max = fmaxf(local_max, x);
  }
  const float row_max = block_reduce(local_max, shared, true);

  float local_sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float e = expf(s[c] * scale + (m != nullptr ? m[c] : 0.0f) - row_max);
    o[c] = e;
    local_sum += e;
  }
  const float inv = 1.0f / block_reduce(local_sum, shared, false);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) o[c] *= inv;
}

}  // namespace

extern "C" {

int32_t mplug_cuda_compiled(void) { return 1; }

int32_t mplug_cuda_masked_softmax(const float *scores, const float *mask, float *out, int64_t rows, int64_t cols,
                                  int64_t rows_per_mask, float scale, void *stream) {
  mplug::clear_error();
  if (scores == nullptr || out == nullptr) return mplug::fail(MPLUG_ERR_ARGUMENT, "mplug_cuda_masked_softmax: NULL buffer");
  if (rows <= 0 || cols <= 0 || rows_per_mask <= 0 || rows % rows_per_mask != 0) {
    return mplug::fail(MPLUG_ERR_ARGUMENT, "mplug_cuda_masked_softmax: need rows > 0, cols > 0 and rows_per_mask "
                                           "dividing rows; got rows " + std::to_string(rows) + ", cols " +
                                           std::to_string(cols) + ", rows_per_mask " + std::to_string(rows_per_mask));
  }
  masked_softmax_kernel<<<static_cast<unsigned>(rows), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      scores, mask, out, cols, rows_per_mask, scale);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    return mplug::fail(MPLUG_ERR_TORCH, std::string("mplug_cuda_masked_softmax: launch failed: ") + cudaGetErrorString(err));
  }
  return MPLUG_OK;
}

}  // extern "C"
