// The fused joint (segmented) attention of native/src/joint_attention.cpp on the GPU, over raw device buffers: queries
// of up to kMaxSegments query segments attend over the keys/values of up to kMaxSegments key segments as if each list
// were concatenated, with an online softmax; backward recomputes the probabilities from the saved log-sum-exp. The
// dropout draw is the CPU kernel's (dropout_hash.h), so both devices drop the same probabilities for one seed.
//
// Straightforward CUDA-core kernels (no tensor cores), written to be checked against PyTorch first:
//   forward: one thread per query row, key/value tiles of kTile keys staged in shared memory;
//   backward: delta = rowsum(dO * O); dK/dV with one thread per key row over query tiles; dQ with one thread per query
//   row over key tiles. Head sizes up to kMaxHead; kernels compiled for head size 64 keep a thread's rows in registers.
// native/cuda/check_on_gpu.sh builds this file alone and checks it against PyTorch from Python.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>

#include <string>

#include "../src/dropout_hash.h"
#include "../src/status.h"

namespace {

constexpr int kMaxSegments = 4;
constexpr int kMaxHead = 128;
constexpr int kSpecialHead = 64;   // the head size with its own kernels (see specialised())
constexpr int kTile = 32;       // keys (or queries) per shared-memory tile
constexpr int kThreads = 64;    // rows per block

__device__ float load(const float *p, int64_t i) { return p[i]; }
__device__ float load(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }
__device__ void store(float *p, int64_t i, float v) { p[i] = v; }
__device__ void store(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

// The segments of one call, passed by value to the kernels. Buffers are contiguous: q/out [B, H, T_s, d|dv],
// k/v [B, H, Tk_s, d|dv] of element type T (float or bfloat16), mask [B, Tk_s] (or NULL), lse [B, H, Tq_s] float.
template <typename T>
struct Segments {
  using Element = T;
  const T *q[kMaxSegments];
  const T *k[kMaxSegments];
  const T *v[kMaxSegments];
  const float *mask[kMaxSegments];
  T *out[kMaxSegments];
  float *lse[kMaxSegments];
  const T *grad_out[kMaxSegments];
  T *grad_q[kMaxSegments];
  T *grad_k[kMaxSegments];
  T *grad_v[kMaxSegments];
  float *delta[kMaxSegments];   // [B, H, Tq_s] scratch for backward
  int64_t q_len[kMaxSegments], k_len[kMaxSegments];
  int n_query, n_key;
  int64_t batch, heads, tq, tk, d, dv;
  float scale, dropout;
  uint64_t seed;
};

// Segment and local index of joint index i.
__device__ void locate(const int64_t *len, int n, int64_t i, int *seg, int64_t *local) {
  int s = 0;
  while (s < n - 1 && i >= len[s]) {
    i -= len[s];
    ++s;
  }
  *seg = s;
  *local = i;
}

template <typename T>
__device__ const T *q_row(const Segments<T> &p, int64_t bh, int64_t i) {
  int s;
  int64_t r;
  locate(p.q_len, p.n_query, i, &s, &r);
  return p.q[s] + (bh * p.q_len[s] + r) * p.d;
}

// Stages keys [j0, j0 + kTile) of (b, h) in shared memory: k rows, v rows, mask (padding keys -inf).
template <typename T>
__device__ void stage_keys(const Segments<T> &p, int64_t bh, int64_t j0, float *ks, float *vs, float *ms) {
  const int64_t b = bh / p.heads;
  for (int64_t x = threadIdx.x; x < kTile; x += blockDim.x) {
    const int64_t j = j0 + x;
    if (j >= p.tk) {
      ms[x] = -INFINITY;
      for (int64_t c = 0; c < p.d; ++c) ks[x * p.d + c] = 0.f;
      for (int64_t c = 0; c < p.dv; ++c) vs[x * p.dv + c] = 0.f;
      continue;
    }
    int s;
    int64_t r;
    locate(p.k_len, p.n_key, j, &s, &r);
    const T *kr = p.k[s] + (bh * p.k_len[s] + r) * p.d;
    const T *vr = p.v[s] + (bh * p.k_len[s] + r) * p.dv;
    for (int64_t c = 0; c < p.d; ++c) ks[x * p.d + c] = load(kr, c);
    for (int64_t c = 0; c < p.dv; ++c) vs[x * p.dv + c] = load(vr, c);
    ms[x] = p.mask[s] != nullptr ? p.mask[s][b * p.k_len[s] + r] : 0.f;
  }
}

template <typename T>
__device__ float keep_factor(const Segments<T> &p, uint32_t row_key, int64_t j) {
  if (p.dropout <= 0.f) return 1.f;
  return mplug::dropout::kept(row_key, static_cast<uint32_t>(j), mplug::dropout::threshold(p.dropout))
             ? 1.f / (1.f - p.dropout) : 0.f;
}

extern __shared__ float shared[];

template <typename T, int D>
__global__ void forward_kernel(Segments<T> p) {
  constexpr int kRow = D > 0 ? D : kMaxHead;
  const int64_t hd = D > 0 ? D : p.d, hdv = D > 0 ? D : p.dv;
  const int64_t bh = blockIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  float *ks = shared, *vs = ks + kTile * hd, *ms = vs + kTile * hdv;
  float q[kRow], acc[kRow];
  const bool active = i < p.tq;
  if (active) {
    const T *qr = q_row(p, bh, i);
    #pragma unroll
    for (int64_t c = 0; c < hd; ++c) q[c] = load(qr, c) * p.scale;
  }
  #pragma unroll
  for (int64_t c = 0; c < hdv; ++c) acc[c] = 0.f;
  float m = -INFINITY, l = 0.f;
  const uint32_t row_key = mplug::dropout::row_key(p.seed, static_cast<uint64_t>(bh * p.tq + i));
  for (int64_t j0 = 0; j0 < p.tk; j0 += kTile) {
    __syncthreads();
    stage_keys(p, bh, j0, ks, vs, ms);
    __syncthreads();
    if (!active) continue;
    for (int x = 0; x < kTile && j0 + x < p.tk; ++x) {
      float s = ms[x];
      #pragma unroll
      for (int64_t c = 0; c < hd; ++c) s += q[c] * ks[x * hd + c];
      const float next = fmaxf(m, s);
      const float alpha = m == -INFINITY ? 0.f : __expf(m - next);
      const float e = __expf(s - next);
      l = l * alpha + e;
      const float w = e * keep_factor(p, row_key, j0 + x);
      #pragma unroll
      for (int64_t c = 0; c < hdv; ++c) acc[c] = acc[c] * alpha + w * vs[x * hdv + c];
      m = next;
    }
  }
  if (!active) return;
  int s;
  int64_t r;
  locate(p.q_len, p.n_query, i, &s, &r);
  T *o = p.out[s] + (bh * p.q_len[s] + r) * hdv;
  #pragma unroll
  for (int64_t c = 0; c < hdv; ++c) store(o, c, acc[c] / l);
  p.lse[s][bh * p.q_len[s] + r] = m + logf(l);
}

// delta_i = rowsum(dO_i * O_i): one thread per (bh, query row).
template <typename T>
__global__ void delta_kernel(Segments<T> p) {
  const int64_t bh = blockIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.tq) return;
  int s;
  int64_t r;
  locate(p.q_len, p.n_query, i, &s, &r);
  const int64_t row = bh * p.q_len[s] + r;
  float dot = 0.f;
  for (int64_t c = 0; c < p.dv; ++c) dot += load(p.grad_out[s], row * p.dv + c) * load(p.out[s], row * p.dv + c);
  p.delta[s][row] = dot;
}

// The probability (after dropout: the weight v saw) and dS of query row i, key j, given the score s.
struct ProbGrad {
  float weight, dscore;
};
template <typename T>
__device__ ProbGrad prob_grad(const Segments<T> &p, float s, float lse, float delta, float dpd, uint32_t row_key,
                              int64_t j) {
  const float prob = __expf(s - lse);
  const float keep = keep_factor(p, row_key, j);
  return {prob * keep, prob * (dpd * keep - delta)};
}

// dK, dV: one thread per (bh, key row), query rows staged kTile at a time (q scaled, dO, lse, delta).
template <typename T, int D>
__global__ void grad_kv_kernel(Segments<T> p) {
  constexpr int kRow = D > 0 ? D : kMaxHead;
  const int64_t hd = D > 0 ? D : p.d, hdv = D > 0 ? D : p.dv;
  const int64_t bh = blockIdx.y, b = bh / p.heads;
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  float *qs = shared, *gos = qs + kTile * hd, *lses = gos + kTile * hdv, *deltas = lses + kTile;
  float k[kRow], v[kRow], dk[kRow], dv[kRow];
  const bool active = j < p.tk;
  float mask = 0.f;
  int ks = 0;
  int64_t kr = 0;
  if (active) {
    locate(p.k_len, p.n_key, j, &ks, &kr);
    const T *kp = p.k[ks] + (bh * p.k_len[ks] + kr) * hd;
    const T *vp = p.v[ks] + (bh * p.k_len[ks] + kr) * hdv;
    #pragma unroll
    for (int64_t c = 0; c < hd; ++c) k[c] = load(kp, c);
    #pragma unroll
    for (int64_t c = 0; c < hdv; ++c) v[c] = load(vp, c);
    mask = p.mask[ks] != nullptr ? p.mask[ks][b * p.k_len[ks] + kr] : 0.f;
  }
  #pragma unroll
  for (int64_t c = 0; c < hd; ++c) dk[c] = 0.f;
  #pragma unroll
  for (int64_t c = 0; c < hdv; ++c) dv[c] = 0.f;
  for (int64_t i0 = 0; i0 < p.tq; i0 += kTile) {
    __syncthreads();
    for (int64_t x = threadIdx.x; x < kTile; x += blockDim.x) {
      const int64_t i = i0 + x;
      if (i >= p.tq) continue;
      int s;
      int64_t r;
      locate(p.q_len, p.n_query, i, &s, &r);
      const int64_t row = bh * p.q_len[s] + r;
      #pragma unroll
      for (int64_t c = 0; c < hd; ++c) qs[x * hd + c] = load(p.q[s], row * hd + c) * p.scale;
      #pragma unroll
      for (int64_t c = 0; c < hdv; ++c) gos[x * hdv + c] = load(p.grad_out[s], row * hdv + c);
      lses[x] = p.lse[s][row];
      deltas[x] = p.delta[s][row];
    }
    __syncthreads();
    if (!active) continue;
    for (int x = 0; x < kTile && i0 + x < p.tq; ++x) {
      float s = mask, dpd = 0.f;
      #pragma unroll
      for (int64_t c = 0; c < hd; ++c) s += qs[x * hd + c] * k[c];
      #pragma unroll
      for (int64_t c = 0; c < hdv; ++c) dpd += gos[x * hdv + c] * v[c];
      const uint32_t row_key = mplug::dropout::row_key(p.seed, static_cast<uint64_t>(bh * p.tq + i0 + x));
      const ProbGrad g = prob_grad(p, s, lses[x], deltas[x], dpd, row_key, j);
      #pragma unroll
      for (int64_t c = 0; c < hdv; ++c) dv[c] += g.weight * gos[x * hdv + c];
      #pragma unroll
      for (int64_t c = 0; c < hd; ++c) dk[c] += g.dscore * qs[x * hd + c];
    }
  }
  if (!active) return;
  T *dkp = p.grad_k[ks] + (bh * p.k_len[ks] + kr) * hd;
  T *dvp = p.grad_v[ks] + (bh * p.k_len[ks] + kr) * hdv;
  #pragma unroll
  for (int64_t c = 0; c < hd; ++c) store(dkp, c, dk[c]);
  #pragma unroll
  for (int64_t c = 0; c < hdv; ++c) store(dvp, c, dv[c]);
}

// dQ: one thread per (bh, query row), key tiles staged as in the forward.
template <typename T, int D>
__global__ void grad_q_kernel(Segments<T> p) {
  constexpr int kRow = D > 0 ? D : kMaxHead;
  const int64_t hd = D > 0 ? D : p.d, hdv = D > 0 ? D : p.dv;
  const int64_t bh = blockIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  float *ks = shared, *vs = ks + kTile * hd, *ms = vs + kTile * hdv;
  float q[kRow], go[kRow], dq[kRow];
  const bool active = i < p.tq;
  float lse = 0.f, delta = 0.f;
  int qs = 0;
  int64_t qr = 0;
  if (active) {
    locate(p.q_len, p.n_query, i, &qs, &qr);
    const int64_t row = bh * p.q_len[qs] + qr;
    #pragma unroll
    for (int64_t c = 0; c < hd; ++c) q[c] = load(p.q[qs], row * hd + c) * p.scale;
    #pragma unroll
    for (int64_t c = 0; c < hdv; ++c) go[c] = load(p.grad_out[qs], row * hdv + c);
    lse = p.lse[qs][row];
    delta = p.delta[qs][row];
  }
  #pragma unroll
  for (int64_t c = 0; c < hd; ++c) dq[c] = 0.f;
  const uint32_t row_key = mplug::dropout::row_key(p.seed, static_cast<uint64_t>(bh * p.tq + i));
  for (int64_t j0 = 0; j0 < p.tk; j0 += kTile) {
    __syncthreads();
    stage_keys(p, bh, j0, ks, vs, ms);
    __syncthreads();
    if (!active) continue;
    for (int x = 0; x < kTile && j0 + x < p.tk; ++x) {
      float s = ms[x], dpd = 0.f;
      #pragma unroll
      for (int64_t c = 0; c < hd; ++c) s += q[c] * ks[x * hd + c];
      #pragma unroll
      for (int64_t c = 0; c < hdv; ++c) dpd += go[c] * vs[x * hdv + c];
      const ProbGrad g = prob_grad(p, s, lse, delta, dpd, row_key, j0 + x);
      #pragma unroll
      for (int64_t c = 0; c < hd; ++c) dq[c] += g.dscore * ks[x * hd + c];
    }
  }
  if (!active) return;
  T *dqp = p.grad_q[qs] + (bh * p.q_len[qs] + qr) * hd;
  #pragma unroll
  for (int64_t c = 0; c < hd; ++c) store(dqp, c, dq[c] * p.scale);
}

// Fills the shared fields of *p; an error message, or "" when the arguments are usable.
template <typename T>
std::string setup(Segments<T> *p, const void *const *q, const int64_t *q_len, int32_t n_query, const void *const *k,
                  const void *const *v, const float *const *mask, const int64_t *k_len, int32_t n_key, int64_t batch,
                  int64_t heads, int64_t d, int64_t dv, float scale, float dropout_p, uint64_t seed) {
  if (n_query < 1 || n_query > kMaxSegments || n_key < 1 || n_key > kMaxSegments) {
    return "need 1.." + std::to_string(kMaxSegments) + " query and key segments";
  }
  if (d < 1 || d > kMaxHead || dv < 1 || dv > kMaxHead) return "head sizes must be in 1.." + std::to_string(kMaxHead);
  if (batch < 1 || heads < 1) return "batch and heads must be positive";
  if (!(dropout_p >= 0.f && dropout_p < 1.f)) return "dropout_p must be in [0, 1)";
  *p = Segments<T>{};
  p->n_query = n_query;
  p->n_key = n_key;
  for (int s = 0; s < n_query; ++s) {
    if (q[s] == nullptr || q_len[s] < 1) return "query segment " + std::to_string(s) + " is NULL or empty";
    p->q[s] = static_cast<const T *>(q[s]);
    p->q_len[s] = q_len[s];
    p->tq += q_len[s];
  }
  for (int s = 0; s < n_key; ++s) {
    if (k[s] == nullptr || v[s] == nullptr || k_len[s] < 1) {
      return "key segment " + std::to_string(s) + " is NULL or empty";
    }
    p->k[s] = static_cast<const T *>(k[s]);
    p->v[s] = static_cast<const T *>(v[s]);
    p->mask[s] = mask != nullptr ? mask[s] : nullptr;
    p->k_len[s] = k_len[s];
    p->tk += k_len[s];
  }
  p->batch = batch;
  p->heads = heads;
  p->d = d;
  p->dv = dv;
  p->scale = scale;
  p->dropout = dropout_p;
  p->seed = seed;
  return "";
}

int32_t launched(const char *who) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return mplug::fail(MPLUG_ERR_TORCH, std::string(who) + ": " + cudaGetErrorString(err));
  return MPLUG_OK;
}

// Head size 64 (mPLUG's) gets kernels compiled for it, so a thread's rows live in registers; other sizes run the
// generic kernels, whose row arrays (kMaxHead floats) spill to local memory.
template <typename T>
bool specialised(const Segments<T> &p) { return p.d == kSpecialHead && p.dv == kSpecialHead; }

template <typename T>
dim3 grid_over(int64_t rows, const Segments<T> &p) {
  return dim3(static_cast<unsigned>((rows + kThreads - 1) / kThreads), static_cast<unsigned>(p.batch * p.heads));
}

// The launches of one call for element type T, head size 64 on the kernels compiled for it.
template <typename T>
void forward(const Segments<T> &p, cudaStream_t st) {
  const size_t smem = sizeof(float) * (kTile * (p.d + p.dv) + kTile);
  if (specialised(p)) {
    forward_kernel<T, kSpecialHead><<<grid_over(p.tq, p), kThreads, smem, st>>>(p);
  } else {
    forward_kernel<T, 0><<<grid_over(p.tq, p), kThreads, smem, st>>>(p);
  }
}

template <typename T>
void backward(const Segments<T> &p, cudaStream_t st) {
  delta_kernel<T><<<grid_over(p.tq, p), kThreads, 0, st>>>(p);
  const size_t smem_kv = sizeof(float) * (kTile * (p.d + p.dv) + 2 * kTile);
  const size_t smem_q = sizeof(float) * (kTile * (p.d + p.dv) + kTile);
  if (specialised(p)) {
    grad_kv_kernel<T, kSpecialHead><<<grid_over(p.tk, p), kThreads, smem_kv, st>>>(p);
    grad_q_kernel<T, kSpecialHead><<<grid_over(p.tq, p), kThreads, smem_q, st>>>(p);
  } else {
    grad_kv_kernel<T, 0><<<grid_over(p.tk, p), kThreads, smem_kv, st>>>(p);
    grad_q_kernel<T, 0><<<grid_over(p.tq, p), kThreads, smem_q, st>>>(p);
  }
}

// Sets up the segments for element type T and runs `launch` on them; an error message, or "".
template <typename T, typename Launch>
std::string run(const void *const *q, const int64_t *q_len, int32_t n_query, const void *const *k,
                const void *const *v, const float *const *mask, const int64_t *k_len, int32_t n_key, int64_t batch,
                int64_t heads, int64_t d, int64_t dv, float scale, float dropout_p, uint64_t seed, Launch launch) {
  Segments<T> p;
  std::string e = setup(&p, q, q_len, n_query, k, v, mask, k_len, n_key, batch, heads, d, dv, scale, dropout_p, seed);
  if (e.empty()) launch(p);
  return e;
}

// run<T> for the element type `dtype` names (MPLUG_DTYPE_*); an error message, or "".
template <typename Launch>
std::string run(int32_t dtype, const void *const *q, const int64_t *q_len, int32_t n_query, const void *const *k,
                const void *const *v, const float *const *mask, const int64_t *k_len, int32_t n_key, int64_t batch,
                int64_t heads, int64_t d, int64_t dv, float scale, float dropout_p, uint64_t seed, Launch launch) {
  if (dtype == MPLUG_DTYPE_FLOAT32) {
    return run<float>(q, q_len, n_query, k, v, mask, k_len, n_key, batch, heads, d, dv, scale, dropout_p, seed, launch);
  }
  if (dtype == MPLUG_DTYPE_BFLOAT16) {
    return run<__nv_bfloat16>(q, q_len, n_query, k, v, mask, k_len, n_key, batch, heads, d, dv, scale, dropout_p,
                              seed, launch);
  }
  return "dtype must be float32 (0) or bfloat16 (1)";
}

}  // namespace

extern "C" {

int32_t mplug_cuda_joint_attention_forward(const void *const *q, const int64_t *q_len, int32_t n_query,
                                           const void *const *k, const void *const *v, const float *const *mask,
                                           const int64_t *k_len, int32_t n_key, int64_t batch, int64_t heads,
                                           int64_t d, int64_t dv, int32_t dtype, float scale, float dropout_p,
                                           uint64_t seed, void *const *out, float *const *lse, void *stream) {
  mplug::clear_error();
  auto st = static_cast<cudaStream_t>(stream);
  auto launch = [&](auto p) {
    using T = typename decltype(p)::Element;
    for (int s = 0; s < n_query; ++s) {
      p.out[s] = static_cast<T *>(out[s]);
      p.lse[s] = lse[s];
    }
    forward(p, st);
  };
  std::string e = run(dtype, q, q_len, n_query, k, v, mask, k_len, n_key, batch, heads, d, dv, scale, dropout_p, seed,
                      launch);
  if (!e.empty()) return mplug::fail(MPLUG_ERR_ARGUMENT, "mplug_cuda_joint_attention_forward: " + e);
  return launched("mplug_cuda_joint_attention_forward");
}

int32_t mplug_cuda_joint_attention_backward(const void *const *q, const int64_t *q_len, int32_t n_query,
                                            const void *const *k, const void *const *v, const float *const *mask,
                                            const int64_t *k_len, int32_t n_key, int64_t batch, int64_t heads,
                                            int64_t d, int64_t dv, int32_t dtype, float scale, float dropout_p,
                                            uint64_t seed, const void *const *out, const float *const *lse,
                                            const void *const *grad_out, float *const *delta, void *const *grad_q,
                                            void *const *grad_k, void *const *grad_v, void *stream) {
  mplug::clear_error();
  auto st = static_cast<cudaStream_t>(stream);
  auto launch = [&](auto p) {
    using T = typename decltype(p)::Element;
    for (int s = 0; s < n_query; ++s) {
      p.out[s] = const_cast<T *>(static_cast<const T *>(out[s]));   // read only in backward
      p.lse[s] = const_cast<float *>(lse[s]);
      p.grad_out[s] = static_cast<const T *>(grad_out[s]);
      p.delta[s] = delta[s];
      p.grad_q[s] = static_cast<T *>(grad_q[s]);
    }
    for (int s = 0; s < n_key; ++s) {
      p.grad_k[s] = static_cast<T *>(grad_k[s]);
      p.grad_v[s] = static_cast<T *>(grad_v[s]);
    }
    backward(p, st);
  };
  std::string e = run(dtype, q, q_len, n_query, k, v, mask, k_len, n_key, batch, heads, d, dv, scale, dropout_p, seed,
                      launch);
  if (!e.empty()) return mplug::fail(MPLUG_ERR_ARGUMENT, "mplug_cuda_joint_attention_backward: " + e);
  return launched("mplug_cuda_joint_attention_backward");
}

}  // extern "C"
