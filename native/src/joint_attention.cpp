// mplug_joint_attention_forward / _backward: fused multi-head attention whose queries and keys/values come in
// SEGMENTS (the streams of mPLUG's fusion network), computed with an online (flash-style) softmax on raw CPU buffers.
//
// The connected-attention layer attends jointly over the image and text streams: queries [V; L], keys and values
// [V; L], key mask [image mask; text mask]. The composite path concatenates the two [B, T, H] streams into one tensor
// first; here each stream stays a separate (strided) tensor and only the one (batch, head) slice a thread works on is
// gathered into a small scratch buffer (tens of KiB, cache-resident). The co-attention layer's self-attention (L over
// L) and cross-attention (L over V) are the one-segment cases of the same op.
//
// Forward, per (batch, head) and per tile of 4 query rows, key blocks of 64 keys: scores = (scale q) k^T + mask, the
// running row max m and sum l updated block by block (flash attention's online softmax), the weighted sum of values
// rescaled when m grows; out = acc / l and the log-sum-exp m + log l are written. No score matrix outlives a block.
// Backward recomputes each block's probabilities from the saved log-sum-exp (P = exp(s - lse)), with
// D = rowsum(dO * O): dV += P^T dO, dP = dO v^T, dS = P (dP - D), dq += scale dS k, dk += scale dS^T q.
// Dropout on the probabilities (p > 0) draws a counter-based hash of (seed, row, key), so backward redraws the same
// mask without storing it.
//
// Inputs and outputs may be float32 or bfloat16, each tensor on its own (autocast hands bfloat16 projections): the
// gather widens bfloat16 rows to float32, all arithmetic is float32, and results are rounded to bfloat16 (to nearest,
// ties to even) as they are written; the log-sum-exp is float32 always (float_rows.h).
//
// Work is split over batch x heads on libtorch's OpenMP thread team (parallel.h), the caller's thread count. The tile loops are compiled
// twice, AVX2+FMA and baseline x86-64, and picked by the CPU's features at run time.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "flash_tiles.h"
#include "float_rows.h"
#include "parallel.h"
#include "status.h"
#include "strided_view.h"

namespace {

using mplug::fail;
using mplug::StridedView;
namespace t = mplug::tiles;
namespace drop = mplug::dropout;

constexpr int32_t kMaxSegments = 8;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Query rows per block of the backward pass (a multiple of tiles::kRows): the inner dimension of its dk and dv products.
constexpr int64_t kBackwardRows = 32;

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Every view of one call, checked for consistent shapes, plus the padded sizes the kernels work in.
struct Problem {
  std::vector<StridedView> q, k, v, mask, out, lse;       // per query segment: q, out, lse; per key segment: k, v, mask
  std::vector<StridedView> grad_out, grad_q, grad_k, grad_v;
  std::vector<int64_t> q_start, k_start;                   // first row / key of each segment in the joint order
  int64_t batch = 0, heads = 0, tq = 0, tk = 0, d = 0, dv = 0;
  int64_t tq_pad = 0, tk_pad = 0, d_pad = 0, dv_pad = 0;
  float scale = 1.f;
  float dropout = 0.f;
  uint64_t seed = 0;
};

std::string check_4d(const StridedView &x, const std::string &what, int64_t b, int64_t h, int64_t t, int64_t w) {
  if (x.size[0] != b || x.size[1] != h || (t >= 0 && x.size[2] != t) || x.size[3] != w) {
    return what + " has shape " + mplug::shape_string(x.size) + "; expected [" + std::to_string(b) + ", " +
           std::to_string(h) + ", " + (t >= 0 ? std::to_string(t) : std::string("T")) + ", " + std::to_string(w) + "]";
  }
  return "";
}

// Reads a list of handles into views, each `dims`-d; `optional` allows NULL entries (left with data == nullptr).
std::string read_list(const mplug_tensor *handles, int32_t n, const char *name, size_t dims, bool optional,
                      std::vector<StridedView> *views,
                      mplug::Accepts accepts = mplug::Accepts::kFloat32OrBFloat16) {
  if (handles == nullptr) return std::string(name) + " is NULL";
  views->resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    if (optional && handles[i] == nullptr) continue;
    std::string e = mplug::read_view(static_cast<AtenTensorHandle>(handles[i]),
                                     std::string(name) + "[" + std::to_string(i) + "]", dims, &(*views)[i], accepts);
    if (!e.empty()) return e;
  }
  return "";
}

// Validates the inputs shared by forward and backward and fills the sizes of *p.
std::string read_problem(const mplug_tensor *q, int32_t n_query, const mplug_tensor *k, const mplug_tensor *v,
                         const mplug_tensor *key_mask, int32_t n_key, double scale, double dropout_p, Problem *p) {
  if (n_query < 1 || n_query > kMaxSegments || n_key < 1 || n_key > kMaxSegments) {
    return "need 1.." + std::to_string(kMaxSegments) + " query and key segments; got " + std::to_string(n_query) +
           " and " + std::to_string(n_key);
  }
  if (!(dropout_p >= 0.0 && dropout_p < 1.0)) return "dropout_p must be in [0, 1); got " + std::to_string(dropout_p);
  if (!std::isfinite(scale)) return "scale must be finite";
  std::string e;
  if (!(e = read_list(q, n_query, "q", 4, false, &p->q)).empty()) return e;
  if (!(e = read_list(k, n_key, "k", 4, false, &p->k)).empty()) return e;
  if (!(e = read_list(v, n_key, "v", 4, false, &p->v)).empty()) return e;
  if (key_mask != nullptr && !(e = read_list(key_mask, n_key, "key_mask", 2, true, &p->mask)).empty()) return e;
  if (key_mask == nullptr) p->mask.assign(static_cast<size_t>(n_key), StridedView{});
  p->batch = p->q[0].size[0];
  p->heads = p->q[0].size[1];
  p->d = p->q[0].size[3];
  p->dv = p->v[0].size[3];
  for (int32_t s = 0; s < n_query; ++s) {
    if (!(e = check_4d(p->q[s], "q[" + std::to_string(s) + "]", p->batch, p->heads, -1, p->d)).empty()) return e;
    p->q_start.push_back(p->tq);
    p->tq += p->q[s].size[2];
  }
  for (int32_t s = 0; s < n_key; ++s) {
    const std::string i = "[" + std::to_string(s) + "]";
    if (!(e = check_4d(p->k[s], "k" + i, p->batch, p->heads, -1, p->d)).empty()) return e;
    const int64_t len = p->k[s].size[2];
    if (!(e = check_4d(p->v[s], "v" + i, p->batch, p->heads, len, p->dv)).empty()) return e;
    const StridedView &m = p->mask[s];
    if (m.data != nullptr && (m.size[0] != p->batch || m.size[1] != len)) {
      return "key_mask" + i + " has shape " + mplug::shape_string(m.size) + "; expected [B, Tk] = [" +
             std::to_string(p->batch) + ", " + std::to_string(len) + "]";
    }
    p->k_start.push_back(p->tk);
    p->tk += len;
  }
  if (p->tq == 0 || p->tk == 0 || p->d == 0 || p->dv == 0) return "empty queries, keys or head size";
  p->tq_pad = round_up(p->tq, t::kRows);
  p->tk_pad = round_up(p->tk, t::kCols);
  p->d_pad = round_up(p->d, t::kCols);
  p->dv_pad = round_up(p->dv, t::kCols);
  p->scale = static_cast<float>(scale);
  p->dropout = static_cast<float>(dropout_p);
  return "";
}

// One thread's scratch: the gathered (batch, head) slice and the tiles, reused across its tasks.
struct Workspace {
  std::vector<float> q, k, kt, v, vt, mask, out, lse, grad_out, delta, grad_q, grad_k, grad_v, s, s2, pt, dst, acc;
  std::vector<float> stage;   // bfloat16 rows as float32: 8 key and 8 value rows (gather), or one output row
  int64_t stage_width = 0;    // floats per row of stage

  void size_for(const Problem &p, bool backward) {
    auto fit = [](std::vector<float> &b, int64_t n) { if (static_cast<int64_t>(b.size()) < n) b.resize(n); };
    fit(q, p.tq_pad * p.d_pad);
    fit(kt, p.d_pad * p.tk_pad);
    fit(v, p.tk_pad * p.dv_pad);
    fit(mask, p.tk_pad);
    fit(s, (backward ? kBackwardRows : t::kRows) * t::kBlock);
    fit(acc, t::kRows * p.dv_pad);
    fit(lse, p.tq_pad);
    stage_width = std::max(p.d_pad, p.dv_pad);
    fit(stage, 16 * stage_width);
    if (backward) {
      fit(k, p.tk_pad * p.d_pad);
      fit(vt, p.dv_pad * p.tk_pad);
      fit(grad_out, p.tq_pad * p.dv_pad);
      fit(delta, p.tq_pad);
      fit(grad_q, kBackwardRows * p.d_pad);
      fit(grad_k, p.tk_pad * p.d_pad);
      fit(grad_v, p.tk_pad * p.dv_pad);
      fit(s2, kBackwardRows * t::kBlock);
      fit(pt, t::kBlock * kBackwardRows);
      fit(dst, t::kBlock * kBackwardRows);
    }
  }
};

// The element offset of row (b, h, i) of a [B, H, T, w] view. Views point at caller-owned tensors: inputs are read,
// outputs written.
int64_t row_of(const StridedView &x, int64_t b, int64_t h, int64_t i) {
  return b * x.stride[0] + h * x.stride[1] + i * x.stride[2];
}

// dst[c * ldd + j + jj] = rows[jj][c] for jj < n, c < width: n source rows written as n adjacent columns, 8 rows at
// a time so that each destination row receives a run of consecutive floats.
__attribute__((always_inline)) inline void to_columns(const float *const *rows, int64_t n, int64_t width, float *dst,
                                                      int64_t ldd, int64_t j) {
  for (int64_t c = 0; c < width; ++c) {
    float *d = dst + c * ldd + j;
    for (int64_t jj = 0; jj < n; ++jj) d[jj] = rows[jj][c];
  }
}

// Copies the (b, h) slice of every segment into the padded float32 joint buffers (bfloat16 rows widened on the way):
// q pre-multiplied by scale, k^T, v, the key mask (padding keys -inf so they get probability 0). With `backward`, also
// k row-major, v^T, dO and D.
// Inlined into each kernel clone, so that its copies are compiled for the same instruction set.
__attribute__((always_inline)) inline void gather(const Problem &p, int64_t b, int64_t h, bool backward,
                                                  Workspace &w) {
  std::fill(w.q.begin(), w.q.begin() + p.tq_pad * p.d_pad, 0.f);
  std::fill(w.kt.begin(), w.kt.begin() + p.d_pad * p.tk_pad, 0.f);
  std::fill(w.v.begin(), w.v.begin() + p.tk_pad * p.dv_pad, 0.f);
  std::fill(w.mask.begin() + p.tk, w.mask.begin() + p.tk_pad, kNegInf);
  if (backward) {
    std::fill(w.k.begin(), w.k.begin() + p.tk_pad * p.d_pad, 0.f);
    std::fill(w.vt.begin(), w.vt.begin() + p.dv_pad * p.tk_pad, 0.f);
  }
  for (size_t s = 0; s < p.q.size(); ++s) {
    for (int64_t i = 0; i < p.q[s].size[2]; ++i) {
      const float *src = mplug::read_floats(p.q[s], row_of(p.q[s], b, h, i), p.d, w.stage.data());
      float *dst = w.q.data() + (p.q_start[s] + i) * p.d_pad;
      for (int64_t c = 0; c < p.d; ++c) dst[c] = src[c] * p.scale;
    }
  }
  for (size_t s = 0; s < p.k.size(); ++s) {
    const StridedView &m = p.mask[s];
    const int64_t len = p.k[s].size[2];
    for (int64_t i0 = 0; i0 < len; i0 += 8) {
      const int64_t n = std::min<int64_t>(8, len - i0);
      const float *ks[8], *vs[8];
      for (int64_t ii = 0; ii < n; ++ii) {
        const int64_t i = i0 + ii, j = p.k_start[s] + i;
        ks[ii] = mplug::read_floats(p.k[s], row_of(p.k[s], b, h, i), p.d, w.stage.data() + ii * w.stage_width);
        vs[ii] = mplug::read_floats(p.v[s], row_of(p.v[s], b, h, i), p.dv,
                                    w.stage.data() + (8 + ii) * w.stage_width);
        std::copy(vs[ii], vs[ii] + p.dv, w.v.data() + j * p.dv_pad);
        if (backward) std::copy(ks[ii], ks[ii] + p.d, w.k.data() + j * p.d_pad);
        w.mask[j] = m.data != nullptr ? mplug::read_float(m, b * m.stride[0] + i * m.stride[1]) : 0.f;
      }
      to_columns(ks, n, p.d, w.kt.data(), p.tk_pad, p.k_start[s] + i0);
      if (backward) to_columns(vs, n, p.dv, w.vt.data(), p.tk_pad, p.k_start[s] + i0);
    }
  }
  if (!backward) return;
  std::fill(w.grad_out.begin(), w.grad_out.begin() + p.tq_pad * p.dv_pad, 0.f);
  std::fill(w.delta.begin(), w.delta.begin() + p.tq_pad, 0.f);
  std::fill(w.lse.begin(), w.lse.begin() + p.tq_pad, 0.f);
  std::fill(w.grad_k.begin(), w.grad_k.begin() + p.tk_pad * p.d_pad, 0.f);
  std::fill(w.grad_v.begin(), w.grad_v.begin() + p.tk_pad * p.dv_pad, 0.f);
  for (size_t s = 0; s < p.q.size(); ++s) {
    for (int64_t i = 0; i < p.q[s].size[2]; ++i) {
      const int64_t r = p.q_start[s] + i;
      const float *go = mplug::read_floats(p.grad_out[s], row_of(p.grad_out[s], b, h, i), p.dv, w.stage.data());
      const float *o = mplug::read_floats(p.out[s], row_of(p.out[s], b, h, i), p.dv,
                                          w.stage.data() + w.stage_width);
      float dot = 0.f;
      for (int64_t c = 0; c < p.dv; ++c) dot += go[c] * o[c];
      std::copy(go, go + p.dv, w.grad_out.data() + r * p.dv_pad);
      w.delta[r] = dot;
      w.lse[r] = p.lse[s].floats()[b * p.lse[s].stride[0] + h * p.lse[s].stride[1] + i * p.lse[s].stride[2]];
    }
  }
}

// The segment and its local row of joint row r.
std::pair<size_t, int64_t> locate(const std::vector<int64_t> &starts, int64_t r) {
  size_t s = starts.size() - 1;
  while (starts[s] > r) --s;
  return {s, r - starts[s]};
}

__attribute__((always_inline)) inline void forward_slice(const Problem &p, int64_t bh, Workspace &w) {
  const int64_t b = bh / p.heads, h = bh % p.heads;
  gather(p, b, h, false, w);
  const uint32_t threshold = drop::threshold(p.dropout);
  const float keep_scale = 1.f / (1.f - p.dropout);
  float *s = w.s.data();
  for (int64_t i0 = 0; i0 < p.tq; i0 += t::kRows) {
    float m[t::kRows], l[t::kRows];
    uint32_t key[t::kRows];
    for (int r = 0; r < t::kRows; ++r) {
      m[r] = kNegInf;
      l[r] = 0.f;
      key[r] = drop::row_key(p.seed, static_cast<uint64_t>(bh * p.tq + i0 + r));
    }
    std::fill(w.acc.begin(), w.acc.begin() + t::kRows * p.dv_pad, 0.f);
    for (int64_t j0 = 0; j0 < p.tk_pad; j0 += t::kBlock) {
      const int64_t n = std::min<int64_t>(t::kBlock, p.tk_pad - j0);
      for (int64_t jj = 0; jj < n; jj += t::kCols) {
        t::dot_tile(w.q.data() + i0 * p.d_pad, p.d_pad, p.d_pad, w.kt.data(), p.tk_pad, j0 + jj, w.mask.data(),
                    s + jj, t::kBlock);
      }
      for (int r = 0; r < t::kRows; ++r) {
        float *row = s + r * t::kBlock;
        const float next = std::max(m[r], t::max_row(row, n));
        const float alpha = m[r] == kNegInf ? 0.f : t::exp_approx(m[r] - next);
        l[r] = l[r] * alpha + t::exp_row(row, n, next);
        m[r] = next;
        if (p.dropout > 0.f) {
          for (int64_t j = 0; j < n; ++j) {
            row[j] = drop::kept(key[r], static_cast<uint32_t>(j0 + j), threshold) ? row[j] * keep_scale : 0.f;
          }
        }
        float *acc = w.acc.data() + r * p.dv_pad;
        for (int64_t c = 0; c < p.dv_pad; ++c) acc[c] *= alpha;
      }
      for (int64_t c = 0; c < p.dv_pad; c += t::kCols) {
        t::accumulate_tile(s, t::kBlock, n, w.v.data() + j0 * p.dv_pad, p.dv_pad, c, w.acc.data(), p.dv_pad);
      }
    }
    for (int r = 0; r < t::kRows && i0 + r < p.tq; ++r) {
      auto [seg, i] = locate(p.q_start, i0 + r);
      const int64_t at = row_of(p.out[seg], b, h, i);
      float *dst = mplug::write_target(p.out[seg], at, w.stage.data());
      const float inv = 1.f / l[r];
      for (int64_t c = 0; c < p.dv; ++c) dst[c] = w.acc[r * p.dv_pad + c] * inv;
      mplug::store_floats(dst, p.dv, p.out[seg], at);
      const StridedView &lse = p.lse[seg];
      lse.floats()[b * lse.stride[0] + h * lse.stride[1] + i * lse.stride[2]] = m[r] + std::log(l[r]);
    }
  }
}

// Copies the transpose of the [rows, cols] block at src (leading dimension lds) to dst (leading dimension ldd).
inline void transpose_block(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst, int64_t ldd) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) dst[c * ldd + r] = src[r * lds + c];
  }
}

// Backward over blocks of kBackwardRows query rows x kBlock keys: the block's P and dS are built 4 rows at a time,
// dq += dS k row tile by row tile, then dv += P^T dO and dk += dS^T q as register-tiled products whose inner
// dimension is the whole query block (P and dS transposed once per block), so each dk/dv tile is loaded and stored
// once per block instead of once per 4 query rows.
__attribute__((always_inline)) inline void backward_slice(const Problem &p, int64_t bh, Workspace &w) {
  const int64_t b = bh / p.heads, h = bh % p.heads;
  gather(p, b, h, true, w);
  const uint32_t threshold = drop::threshold(p.dropout);
  const float keep_scale = 1.f / (1.f - p.dropout);
  float *prob = w.s.data();     // [rows, kBlock] P with dropout applied (the weights v saw)
  float *dscore = w.s2.data();  // [rows, kBlock] dP, then dS in place
  float *prob_t = w.pt.data();  // [kBlock, kBackwardRows] P^T
  float *dscore_t = w.dst.data();
  for (int64_t i0 = 0; i0 < p.tq_pad; i0 += kBackwardRows) {
    const int64_t m = std::min<int64_t>(kBackwardRows, p.tq_pad - i0);   // a multiple of kRows
    std::fill(w.grad_q.begin(), w.grad_q.begin() + m * p.d_pad, 0.f);
    for (int64_t j0 = 0; j0 < p.tk_pad; j0 += t::kBlock) {
      const int64_t n = std::min<int64_t>(t::kBlock, p.tk_pad - j0);
      for (int64_t r0 = 0; r0 < m; r0 += t::kRows) {
        float *pr0 = prob + r0 * t::kBlock, *ds0 = dscore + r0 * t::kBlock;
        for (int64_t jj = 0; jj < n; jj += t::kCols) {
          t::dot_tile(w.q.data() + (i0 + r0) * p.d_pad, p.d_pad, p.d_pad, w.kt.data(), p.tk_pad, j0 + jj,
                      w.mask.data(), pr0 + jj, t::kBlock);
          t::dot_tile(w.grad_out.data() + (i0 + r0) * p.dv_pad, p.dv_pad, p.dv_pad, w.vt.data(), p.tk_pad, j0 + jj,
                      nullptr, ds0 + jj, t::kBlock);
        }
        for (int r = 0; r < t::kRows; ++r) {
          const int64_t row = i0 + r0 + r;
          float *pr = pr0 + r * t::kBlock, *ds = ds0 + r * t::kBlock;
          const float lse = w.lse[row], delta = w.delta[row];
          t::exp_row(pr, n, lse);
          if (p.dropout > 0.f) {
            const uint32_t key = drop::row_key(p.seed, static_cast<uint64_t>(bh * p.tq + row));
            for (int64_t j = 0; j < n; ++j) {
              const float keep = drop::kept(key, static_cast<uint32_t>(j0 + j), threshold) ? keep_scale : 0.f;
              ds[j] = pr[j] * (ds[j] * keep - delta);
              pr[j] *= keep;
            }
          } else {
            for (int64_t j = 0; j < n; ++j) ds[j] = pr[j] * (ds[j] - delta);
          }
        }
        for (int64_t c = 0; c < p.d_pad; c += t::kCols) {
          t::accumulate_tile(ds0, t::kBlock, n, w.k.data() + j0 * p.d_pad, p.d_pad, c, w.grad_q.data() + r0 * p.d_pad,
                             p.d_pad);
        }
      }
      transpose_block(prob, t::kBlock, m, n, prob_t, kBackwardRows);
      transpose_block(dscore, t::kBlock, m, n, dscore_t, kBackwardRows);
      for (int64_t jj = 0; jj < n; jj += t::kRows) {
        for (int64_t c = 0; c < p.dv_pad; c += t::kCols) {
          t::accumulate_tile(prob_t + jj * kBackwardRows, kBackwardRows, m, w.grad_out.data() + i0 * p.dv_pad,
                             p.dv_pad, c, w.grad_v.data() + (j0 + jj) * p.dv_pad, p.dv_pad);
        }
        for (int64_t c = 0; c < p.d_pad; c += t::kCols) {
          t::accumulate_tile(dscore_t + jj * kBackwardRows, kBackwardRows, m, w.q.data() + i0 * p.d_pad, p.d_pad, c,
                             w.grad_k.data() + (j0 + jj) * p.d_pad, p.d_pad);
        }
      }
    }
    for (int64_t r = 0; r < m && i0 + r < p.tq; ++r) {
      auto [seg, i] = locate(p.q_start, i0 + r);
      const int64_t at = row_of(p.grad_q[seg], b, h, i);
      float *dst = mplug::write_target(p.grad_q[seg], at, w.stage.data());
      for (int64_t c = 0; c < p.d; ++c) dst[c] = w.grad_q[r * p.d_pad + c] * p.scale;
      mplug::store_floats(dst, p.d, p.grad_q[seg], at);
    }
  }
  for (size_t s = 0; s < p.k.size(); ++s) {
    for (int64_t i = 0; i < p.k[s].size[2]; ++i) {
      const int64_t j = p.k_start[s] + i;
      mplug::store_floats(w.grad_k.data() + j * p.d_pad, p.d, p.grad_k[s], row_of(p.grad_k[s], b, h, i));
      mplug::store_floats(w.grad_v.data() + j * p.dv_pad, p.dv, p.grad_v[s], row_of(p.grad_v[s], b, h, i));
    }
  }
}

// The slices compiled twice: for CPUs with AVX2 and FMA (8-float registers, fused multiply-add) and for baseline
// x86-64 (SSE2). Chosen by CPU features, not model: GCC's target_clones("arch=haswell") tests the CPU model and would
// take the baseline clone on every AMD CPU.
__attribute__((target("avx2,fma"))) void forward_avx2(const Problem &p, int64_t bh, Workspace &w) {
  forward_slice(p, bh, w);
}
__attribute__((target("avx2,fma"))) void backward_avx2(const Problem &p, int64_t bh, Workspace &w) {
  backward_slice(p, bh, w);
}
void forward_baseline(const Problem &p, int64_t bh, Workspace &w) { forward_slice(p, bh, w); }
void backward_baseline(const Problem &p, int64_t bh, Workspace &w) { backward_slice(p, bh, w); }

bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// Checks outputs of the query segments ([B, H, Tq_s, w] rows and [B, H, Tq_s] log-sum-exp).
std::string check_query_outputs(const Problem &p, const std::vector<StridedView> &x, const char *name, int64_t width) {
  for (size_t s = 0; s < x.size(); ++s) {
    std::string e = check_4d(x[s], std::string(name) + "[" + std::to_string(s) + "]", p.batch, p.heads,
                             p.q[s].size[2], width);
    if (!e.empty()) return e;
  }
  return "";
}

std::string check_lse(const Problem &p) {
  for (size_t s = 0; s < p.lse.size(); ++s) {
    const auto &x = p.lse[s];
    if (x.size[0] != p.batch || x.size[1] != p.heads || x.size[2] != p.q[s].size[2]) {
      return "lse[" + std::to_string(s) + "] has shape " + mplug::shape_string(x.size) + "; expected [B, H, Tq]";
    }
  }
  return "";
}

int32_t run(const char *who, const std::string &problem, int32_t threads, Problem &p, bool backward) {
  if (!problem.empty()) return fail(MPLUG_ERR_ARGUMENT, std::string(who) + ": " + problem);
  std::atomic<bool> ok{true};
  mplug::parallel_tasks<Workspace>(p.batch * p.heads, std::max(1, threads), [&](Workspace &w, int64_t bh) {
    try {
      w.size_for(p, backward);
      if (has_avx2_fma()) {
        backward ? backward_avx2(p, bh, w) : forward_avx2(p, bh, w);
      } else {
        backward ? backward_baseline(p, bh, w) : forward_baseline(p, bh, w);
      }
    } catch (const std::exception &) {
      ok = false;   // only bad_alloc can get here
    }
  });
  return ok ? MPLUG_OK : fail(MPLUG_ERR_TORCH, std::string(who) + ": out of memory for the scratch buffers");
}

}  // namespace

extern "C" {

int32_t mplug_joint_attention_forward(const mplug_tensor *q, int32_t n_query, const mplug_tensor *k,
                                      const mplug_tensor *v, const mplug_tensor *key_mask, int32_t n_key, double scale,
                                      double dropout_p, uint64_t seed, int32_t threads, const mplug_tensor *out,
                                      const mplug_tensor *lse) {
  mplug::clear_error();
  Problem p;
  std::string e = read_problem(q, n_query, k, v, key_mask, n_key, scale, dropout_p, &p);
  if (e.empty()) e = read_list(out, n_query, "out", 4, false, &p.out);
  if (e.empty()) e = read_list(lse, n_query, "lse", 3, false, &p.lse, mplug::Accepts::kFloat32);
  if (e.empty()) e = check_query_outputs(p, p.out, "out", p.dv);
  if (e.empty()) e = check_lse(p);
  p.seed = seed;
  return run("mplug_joint_attention_forward", e, threads, p, false);
}

int32_t mplug_joint_attention_backward(const mplug_tensor *q, int32_t n_query, const mplug_tensor *k,
                                       const mplug_tensor *v, const mplug_tensor *key_mask, int32_t n_key,
                                       double scale, double dropout_p, uint64_t seed, int32_t threads,
                                       const mplug_tensor *out, const mplug_tensor *lse, const mplug_tensor *grad_out,
                                       const mplug_tensor *grad_q, const mplug_tensor *grad_k,
                                       const mplug_tensor *grad_v) {
  mplug::clear_error();
  Problem p;
  std::string e = read_problem(q, n_query, k, v, key_mask, n_key, scale, dropout_p, &p);
  if (e.empty()) e = read_list(out, n_query, "out", 4, false, &p.out);
  if (e.empty()) e = read_list(lse, n_query, "lse", 3, false, &p.lse, mplug::Accepts::kFloat32);
  if (e.empty()) e = read_list(grad_out, n_query, "grad_out", 4, false, &p.grad_out);
  if (e.empty()) e = read_list(grad_q, n_query, "grad_q", 4, false, &p.grad_q);
  if (e.empty()) e = read_list(grad_k, n_key, "grad_k", 4, false, &p.grad_k);
  if (e.empty()) e = read_list(grad_v, n_key, "grad_v", 4, false, &p.grad_v);
  if (e.empty()) e = check_query_outputs(p, p.out, "out", p.dv);
  if (e.empty()) e = check_query_outputs(p, p.grad_out, "grad_out", p.dv);
  if (e.empty()) e = check_query_outputs(p, p.grad_q, "grad_q", p.d);
  if (e.empty()) e = check_lse(p);
  for (int32_t s = 0; e.empty() && s < n_key; ++s) {
    const int64_t len = p.k[s].size[2];
    e = check_4d(p.grad_k[s], "grad_k[" + std::to_string(s) + "]", p.batch, p.heads, len, p.d);
    if (e.empty()) e = check_4d(p.grad_v[s], "grad_v[" + std::to_string(s) + "]", p.batch, p.heads, len, p.dv);
  }
  p.seed = seed;
  return run("mplug_joint_attention_backward", e, threads, p, true);
}

}  // extern "C"
