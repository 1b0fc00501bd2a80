// mplug_residual_layer_norm_forward / _backward: the tail of every BERT output block, y = LayerNorm(residual +
// Dropout(x + bias)), as one pass over each row on raw CPU buffers instead of four ATen ops (add bias, dropout with its
// mask tensor, add residual, LayerNorm), each reading and writing the whole activation.
//
// Forward, per row: z = residual + keep(x + bias) / (1 - p), mean and 1/std of z (8 float lanes), y = (z - mean)
// * rstd * gamma + beta; mean and rstd are saved for backward. Dropout draws the counter-based hash of the attention
// kernels (dropout_hash.h) on (seed, row, column), so backward redraws the same mask without storing it.
// Backward, per row: z is recomputed, xhat = (z - mean) rstd, g' = g gamma, dz = rstd (g' - mean(g') - xhat
// mean(g' xhat)), d residual = dz, dx = keep dz / (1 - p); the column sums d gamma = sum g xhat, d beta = sum g and
// d bias = sum dx are summed per chunk of rows and the chunks added in order, so the result does not depend on the
// thread count.
//
// Rows and vectors may be float32 or bfloat16, each tensor on its own (under autocast x is a bfloat16 product while the
// residual and LayerNorm's weights are float32): rows are widened to float32 as they are read, all arithmetic is
// float32, results are rounded to bfloat16 (to nearest, ties to even) as they are written; mean and rstd are float32.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "dropout_hash.h"
#include "flash_tiles.h"
#include "float_rows.h"
#include "parallel.h"
#include "status.h"
#include "strided_view.h"

namespace {

using mplug::fail;
using mplug::StridedView;
namespace drop = mplug::dropout;
namespace t = mplug::tiles;

constexpr int64_t kChunkRows = 32;   // rows per task; the unit of the column sums' partials

struct Problem {
  StridedView x, bias, residual, gamma, beta, out, mean, rstd;   // [N, C] rows, [C] vectors, [N] statistics
  StridedView grad_out, grad_x, grad_residual, grad_bias, grad_gamma, grad_beta;
  std::vector<float> bias_f, gamma_f, beta_f;                     // the [C] vectors as float32
  int64_t rows = 0, cols = 0;
  float dropout = 0.f, eps = 0.f;
  uint64_t seed = 0;
};

struct Workspace {
  std::vector<float> z, gg;   // a row's z (then xhat) and g * gamma
  std::vector<float> x, residual, out, grad_out, grad_x, grad_residual;   // bfloat16 rows as float32

  // Every row buffer `cols` floats long.
  void size_for(int64_t cols) {
    for (std::vector<float> *b : {&z, &gg, &x, &residual, &out, &grad_out, &grad_x, &grad_residual}) {
      b->resize(static_cast<size_t>(cols));
    }
  }
};

std::string read(mplug_tensor t, const char *name, size_t dims, StridedView *view,
                 mplug::Accepts accepts = mplug::Accepts::kFloat32OrBFloat16) {
  return mplug::read_view(static_cast<AtenTensorHandle>(t), name, dims, view, accepts);
}

// A contiguous [C] vector as float32.
std::vector<float> floats_of(const StridedView &v) {
  std::vector<float> r(static_cast<size_t>(v.size[0]));
  const float *src = mplug::read_floats(v, 0, v.size[0], r.data());
  if (src != r.data()) std::copy(src, src + v.size[0], r.data());
  return r;
}

// The shape check of one [rows, cols] or [n] view.
std::string check(const StridedView &v, const char *name, int64_t rows, int64_t cols) {
  const bool ok = cols < 0 ? v.size[0] == rows : v.size[0] == rows && v.size[1] == cols;
  if (ok && (cols >= 0 || v.size[0] <= 1 || v.stride[0] == 1)) return "";
  return std::string(name) + " has shape " + mplug::shape_string(v.size) + " (strides " +
         mplug::shape_string(v.stride) + "); expected " +
         (cols < 0 ? "[" + std::to_string(rows) + "], contiguous"
                   : "[" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
}

std::string read_inputs(mplug_tensor x, mplug_tensor bias, mplug_tensor residual, mplug_tensor gamma,
                        mplug_tensor beta, double dropout_p, double eps, Problem *p) {
  if (!(dropout_p >= 0.0 && dropout_p < 1.0)) return "dropout_p must be in [0, 1); got " + std::to_string(dropout_p);
  if (!(eps > 0.0)) return "eps must be positive; got " + std::to_string(eps);
  std::string e;
  if (!(e = read(x, "x", 2, &p->x)).empty()) return e;
  p->rows = p->x.size[0];
  p->cols = p->x.size[1];
  if (p->cols == 0) return "x has no columns";
  if (!(e = read(residual, "residual", 2, &p->residual)).empty()) return e;
  if (!(e = check(p->residual, "residual", p->rows, p->cols)).empty()) return e;
  const std::pair<mplug_tensor, const char *> vectors[] = {{bias, "bias"}, {gamma, "gamma"}, {beta, "beta"}};
  StridedView *targets[] = {&p->bias, &p->gamma, &p->beta};
  for (int i = 0; i < 3; ++i) {
    if (!(e = read(vectors[i].first, vectors[i].second, 1, targets[i])).empty()) return e;
    if (!(e = check(*targets[i], vectors[i].second, p->cols, -1)).empty()) return e;
  }
  p->bias_f = floats_of(p->bias);
  p->gamma_f = floats_of(p->gamma);
  p->beta_f = floats_of(p->beta);
  p->dropout = static_cast<float>(dropout_p);
  p->eps = static_cast<float>(eps);
  return "";
}

// The element offset of row i of an [N, C] view.
int64_t row(const StridedView &v, int64_t i) { return i * v.stride[0]; }

// sum over c < n of (a[c] - shift), squared when `square`, times b[c] when b is given: the row reductions, in 8
// float lanes (vectorised in each clone).
__attribute__((always_inline)) inline float lane_sum(const float *a, const float *b, float shift, bool square,
                                                     int64_t n) {
  t::v8 acc = t::splat(0.f);
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    t::v8 x = t::load8(a + c) - shift;
    if (square) x = x * x;
    if (b != nullptr) x = x * t::load8(b + c);
    acc += x;
  }
  float sum = t::sum8(acc);
  for (; c < n; ++c) {
    float x = a[c] - shift;
    if (square) x = x * x;
    sum += b != nullptr ? x * b[c] : x;
  }
  return sum;
}

// z = residual + keep(x + bias) / (1 - p) for row i, written to w.z.
__attribute__((always_inline)) inline void residual_row(const Problem &p, int64_t i, Workspace &w) {
  const float *x = mplug::read_floats(p.x, row(p.x, i), p.cols, w.x.data());
  const float *r = mplug::read_floats(p.residual, row(p.residual, i), p.cols, w.residual.data());
  const float *b = p.bias_f.data();
  float *z = w.z.data();
  if (p.dropout > 0.f) {
    const uint32_t key = drop::row_key(p.seed, static_cast<uint64_t>(i));
    const uint32_t threshold = drop::threshold(p.dropout);
    const float keep_scale = 1.f / (1.f - p.dropout);
    for (int64_t c = 0; c < p.cols; ++c) {
      const float h = x[c] + b[c];
      z[c] = r[c] + (drop::kept(key, static_cast<uint32_t>(c), threshold) ? h * keep_scale : 0.f);
    }
  } else {
    for (int64_t c = 0; c < p.cols; ++c) z[c] = r[c] + (x[c] + b[c]);
  }
}

__attribute__((always_inline)) inline void forward_chunk(const Problem &p, int64_t chunk, Workspace &w) {
  w.size_for(p.cols);
  float *z = w.z.data();
  const int64_t end = std::min(p.rows, (chunk + 1) * kChunkRows);
  for (int64_t i = chunk * kChunkRows; i < end; ++i) {
    residual_row(p, i, w);
    const float mean = lane_sum(z, nullptr, 0.f, false, p.cols) / static_cast<float>(p.cols);
    const float var = lane_sum(z, nullptr, mean, true, p.cols) / static_cast<float>(p.cols);
    const float rstd = 1.f / std::sqrt(var + p.eps);
    float *y = mplug::write_target(p.out, row(p.out, i), w.out.data());
    for (int64_t c = 0; c < p.cols; ++c) y[c] = (z[c] - mean) * rstd * p.gamma_f[c] + p.beta_f[c];
    mplug::store_floats(y, p.cols, p.out, row(p.out, i));
    p.mean.floats()[i] = mean;
    p.rstd.floats()[i] = rstd;
  }
}

// Partial column sums of one chunk: [3, C] (d gamma, d beta, d bias) at partial.
__attribute__((always_inline)) inline void backward_chunk(const Problem &p, int64_t chunk, float *partial,
                                                          Workspace &w) {
  w.size_for(p.cols);
  float *z = w.z.data();
  float *dgamma = partial, *dbeta = partial + p.cols, *dbias = partial + 2 * p.cols;
  std::fill(partial, partial + 3 * p.cols, 0.f);
  const uint32_t threshold = drop::threshold(p.dropout);
  const float keep_scale = 1.f / (1.f - p.dropout);
  const int64_t end = std::min(p.rows, (chunk + 1) * kChunkRows);
  for (int64_t i = chunk * kChunkRows; i < end; ++i) {
    residual_row(p, i, w);
    const float mean = p.mean.floats()[i], rstd = p.rstd.floats()[i];
    const float *g = mplug::read_floats(p.grad_out, row(p.grad_out, i), p.cols, w.grad_out.data());
    float *gg = w.gg.data();
    for (int64_t c = 0; c < p.cols; ++c) {
      const float xhat = (z[c] - mean) * rstd;
      dgamma[c] += g[c] * xhat;
      dbeta[c] += g[c];
      gg[c] = g[c] * p.gamma_f[c];
      z[c] = xhat;
    }
    const float ma = lane_sum(gg, nullptr, 0.f, false, p.cols) / static_cast<float>(p.cols);
    const float mb = lane_sum(gg, z, 0.f, false, p.cols) / static_cast<float>(p.cols);
    float *dr = mplug::write_target(p.grad_residual, row(p.grad_residual, i), w.grad_residual.data());
    float *dx = mplug::write_target(p.grad_x, row(p.grad_x, i), w.grad_x.data());
    const uint32_t key = drop::row_key(p.seed, static_cast<uint64_t>(i));
    for (int64_t c = 0; c < p.cols; ++c) {
      const float dz = rstd * (gg[c] - ma - z[c] * mb);
      dr[c] = dz;
      const float keep = p.dropout > 0.f ? (drop::kept(key, static_cast<uint32_t>(c), threshold) ? keep_scale : 0.f)
                                         : 1.f;
      dx[c] = dz * keep;
      dbias[c] += dx[c];
    }
    mplug::store_floats(dr, p.cols, p.grad_residual, row(p.grad_residual, i));
    mplug::store_floats(dx, p.cols, p.grad_x, row(p.grad_x, i));
  }
}

__attribute__((target("avx2,fma"))) void forward_avx2(const Problem &p, int64_t chunk, Workspace &w) {
  forward_chunk(p, chunk, w);
}
__attribute__((target("avx2,fma"))) void backward_avx2(const Problem &p, int64_t chunk, float *partial,
                                                       Workspace &w) {
  backward_chunk(p, chunk, partial, w);
}
void forward_baseline(const Problem &p, int64_t chunk, Workspace &w) { forward_chunk(p, chunk, w); }
void backward_baseline(const Problem &p, int64_t chunk, float *partial, Workspace &w) {
  backward_chunk(p, chunk, partial, w);
}

bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

int64_t chunks_of(const Problem &p) { return (p.rows + kChunkRows - 1) / kChunkRows; }

}  // namespace

extern "C" {

int32_t mplug_residual_layer_norm_forward(mplug_tensor x, mplug_tensor bias, mplug_tensor residual,
                                          mplug_tensor gamma, mplug_tensor beta, double dropout_p, uint64_t seed,
                                          double eps, int32_t threads, mplug_tensor out, mplug_tensor mean,
                                          mplug_tensor rstd) {
  mplug::clear_error();
  Problem p;
  std::string e = read_inputs(x, bias, residual, gamma, beta, dropout_p, eps, &p);
  if (e.empty()) e = read(out, "out", 2, &p.out);
  if (e.empty()) e = check(p.out, "out", p.rows, p.cols);
  if (e.empty()) e = read(mean, "mean", 1, &p.mean, mplug::Accepts::kFloat32);
  if (e.empty()) e = check(p.mean, "mean", p.rows, -1);
  if (e.empty()) e = read(rstd, "rstd", 1, &p.rstd, mplug::Accepts::kFloat32);
  if (e.empty()) e = check(p.rstd, "rstd", p.rows, -1);
  if (!e.empty()) return fail(MPLUG_ERR_ARGUMENT, "mplug_residual_layer_norm_forward: " + e);
  p.seed = seed;
  mplug::parallel_tasks<Workspace>(chunks_of(p), std::max(1, threads), [&](Workspace &w, int64_t chunk) {
    has_avx2_fma() ? forward_avx2(p, chunk, w) : forward_baseline(p, chunk, w);
  });
  return MPLUG_OK;
}

int32_t mplug_residual_layer_norm_backward(mplug_tensor x, mplug_tensor bias, mplug_tensor residual,
                                           mplug_tensor gamma, mplug_tensor beta, double dropout_p, uint64_t seed,
                                           double eps, int32_t threads, mplug_tensor mean, mplug_tensor rstd,
                                           mplug_tensor grad_out, mplug_tensor grad_x, mplug_tensor grad_residual,
                                           mplug_tensor grad_bias, mplug_tensor grad_gamma, mplug_tensor grad_beta) {
  mplug::clear_error();
  Problem p;
  std::string e = read_inputs(x, bias, residual, gamma, beta, dropout_p, eps, &p);
  const std::pair<mplug_tensor, const char *> matrices[] = {
      {grad_out, "grad_out"}, {grad_x, "grad_x"}, {grad_residual, "grad_residual"}};
  StridedView *matrix_views[] = {&p.grad_out, &p.grad_x, &p.grad_residual};
  for (int i = 0; e.empty() && i < 3; ++i) {
    e = read(matrices[i].first, matrices[i].second, 2, matrix_views[i]);
    if (e.empty()) e = check(*matrix_views[i], matrices[i].second, p.rows, p.cols);
  }
  const std::pair<mplug_tensor, const char *> vectors[] = {
      {mean, "mean"}, {rstd, "rstd"}, {grad_bias, "grad_bias"}, {grad_gamma, "grad_gamma"}, {grad_beta, "grad_beta"}};
  StridedView *vector_views[] = {&p.mean, &p.rstd, &p.grad_bias, &p.grad_gamma, &p.grad_beta};
  for (int i = 0; e.empty() && i < 5; ++i) {
    e = read(vectors[i].first, vectors[i].second, 1, vector_views[i],
             i < 2 ? mplug::Accepts::kFloat32 : mplug::Accepts::kFloat32OrBFloat16);
    if (e.empty()) e = check(*vector_views[i], vectors[i].second, i < 2 ? p.rows : p.cols, -1);
  }
  if (!e.empty()) return fail(MPLUG_ERR_ARGUMENT, "mplug_residual_layer_norm_backward: " + e);
  p.seed = seed;
  const int64_t chunks = chunks_of(p);
  std::vector<float> partials;
  try {
    partials.assign(static_cast<size_t>(chunks * 3 * p.cols), 0.f);
  } catch (const std::bad_alloc &) {
    return fail(MPLUG_ERR_TORCH, "mplug_residual_layer_norm_backward: out of memory for the column sums");
  }
  mplug::parallel_tasks<Workspace>(chunks, std::max(1, threads), [&](Workspace &w, int64_t chunk) {
    float *partial = partials.data() + chunk * 3 * p.cols;
    has_avx2_fma() ? backward_avx2(p, chunk, partial, w) : backward_baseline(p, chunk, partial, w);
  });
  std::vector<float> sums(static_cast<size_t>(3 * p.cols), 0.f);   // d gamma, d beta, d bias
  for (int64_t k = 0; k < chunks; ++k) {
    const float *partial = partials.data() + k * 3 * p.cols;
    for (int64_t c = 0; c < 3 * p.cols; ++c) sums[c] += partial[c];
  }
  mplug::store_floats(sums.data(), p.cols, p.grad_gamma, 0);
  mplug::store_floats(sums.data() + p.cols, p.cols, p.grad_beta, 0);
  mplug::store_floats(sums.data() + 2 * p.cols, p.cols, p.grad_bias, 0);
  return MPLUG_OK;
}

}  // extern "C"
