// The arithmetic of the fused CPU attention kernels: register tiles written with GCC vector extensions (8 floats, one
// AVX register), an exp that vectorises, and the counter-based dropout draw. Header-only so that every function is
// inlined into the kernels, which are compiled twice (for AVX2+FMA and for baseline x86-64, picked at run time by the
// CPU's features): the same source is the vectorised path and the portable fallback. The dropout draw is in
// dropout_hash.h.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "dropout_hash.h"

namespace mplug::tiles {

typedef float v8 __attribute__((vector_size(32)));

// Query rows per register tile and keys per tile; key blocks of the online softmax are kBlock keys wide.
constexpr int kRows = 4;
constexpr int kCols = 16;
constexpr int kBlock = 64;

inline v8 load8(const float *p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float *p, v8 v) { std::memcpy(p, &v, sizeof v); }
inline v8 splat(float x) { return v8{x, x, x, x, x, x, x, x}; }

// C[r][col .. col+16) = init[col .. col+16) + sum_c A[r][c] * Bt[c][col ..], r < 4: A row-major (lda), Bt the
// transposed right operand (ldb), init NULL for zero. The score tile (A = q, Bt = k^T, init = key mask) and dP (A =
// dO, Bt = v^T) of the kernels.
inline void dot_tile(const float *a, int64_t lda, int64_t inner, const float *bt, int64_t ldb, int64_t col,
                     const float *init, float *c, int64_t ldc) {
  v8 z = splat(0.f);
  v8 i0 = init ? load8(init + col) : z, i1 = init ? load8(init + col + 8) : z;
  v8 c00 = i0, c01 = i1, c10 = i0, c11 = i1, c20 = i0, c21 = i1, c30 = i0, c31 = i1;
  for (int64_t k = 0; k < inner; ++k) {
    const v8 b0 = load8(bt + k * ldb + col), b1 = load8(bt + k * ldb + col + 8);
    const float a0 = a[k], a1 = a[lda + k], a2 = a[2 * lda + k], a3 = a[3 * lda + k];
    c00 += a0 * b0; c01 += a0 * b1;
    c10 += a1 * b0; c11 += a1 * b1;
    c20 += a2 * b0; c21 += a2 * b1;
    c30 += a3 * b0; c31 += a3 * b1;
  }
  store8(c, c00); store8(c + 8, c01);
  store8(c + ldc, c10); store8(c + ldc + 8, c11);
  store8(c + 2 * ldc, c20); store8(c + 2 * ldc + 8, c21);
  store8(c + 3 * ldc, c30); store8(c + 3 * ldc + 8, c31);
}

// C[r][col .. col+16) += sum_{j < n} P[r][j] * B[j][col ..], r < 4: P row-major (ldp), B row-major (ldb), C (ldc).
// The P.v product of the forward; in the backward dS.k (dq), and P^T.dO (dv) and dS^T.q (dk) with P^T, dS^T given
// as rows of keys over a block of queries.
inline void accumulate_tile(const float *p, int64_t ldp, int64_t n, const float *b, int64_t ldb, int64_t col,
                            float *c, int64_t ldc) {
  v8 c00 = load8(c + col), c01 = load8(c + col + 8);
  v8 c10 = load8(c + ldc + col), c11 = load8(c + ldc + col + 8);
  v8 c20 = load8(c + 2 * ldc + col), c21 = load8(c + 2 * ldc + col + 8);
  v8 c30 = load8(c + 3 * ldc + col), c31 = load8(c + 3 * ldc + col + 8);
  for (int64_t j = 0; j < n; ++j) {
    const v8 b0 = load8(b + j * ldb + col), b1 = load8(b + j * ldb + col + 8);
    const float p0 = p[j], p1 = p[ldp + j], p2 = p[2 * ldp + j], p3 = p[3 * ldp + j];
    c00 += p0 * b0; c01 += p0 * b1;
    c10 += p1 * b0; c11 += p1 * b1;
    c20 += p2 * b0; c21 += p2 * b1;
    c30 += p3 * b0; c31 += p3 * b1;
  }
  store8(c + col, c00); store8(c + col + 8, c01);
  store8(c + ldc + col, c10); store8(c + ldc + col + 8, c11);
  store8(c + 2 * ldc + col, c20); store8(c + 2 * ldc + col + 8, c21);
  store8(c + 3 * ldc + col, c30); store8(c + 3 * ldc + col + 8, c31);
}

typedef int32_t v8i __attribute__((vector_size(32)));

// exp(x) in float32 to about 2 ulp, 8 lanes at a time (Cephes' expf: x = n ln2 + r, n rounded with the 1.5 * 2^23
// trick, a degree-6 polynomial in r, 2^n from the exponent bits). Exactly 0 below -87.3 (also for -inf), where expf
// underflows.
inline v8 exp8(v8 x) {
  const v8 lo = splat(-87.3f), hi = splat(88.3f);
  v8 xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const v8 n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const v8 r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  v8 p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const v8i bits = (__builtin_convertvector(n, v8i) + 127) << 23;
  const v8 y = p * (v8)bits;   // GCC vector cast: reinterprets the bits
  return x < lo ? splat(0.f) : y;
}

inline float exp_approx(float x) { return exp8(splat(x))[0]; }

inline float sum8(v8 v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }

// The largest of row[0 .. n), n a multiple of 8.
inline float max_row(const float *row, int64_t n) {
  v8 m = load8(row);
  for (int64_t j = 8; j < n; j += 8) {
    const v8 x = load8(row + j);
    m = x > m ? x : m;
  }
  float r = m[0];
  for (int i = 1; i < 8; ++i) r = r > m[i] ? r : m[i];
  return r;
}

// row[j] = exp(row[j] - shift) for j < n (a multiple of 8); returns their sum.
inline float exp_row(float *row, int64_t n, float shift) {
  v8 acc = splat(0.f);
  for (int64_t j = 0; j < n; j += 8) {
    const v8 e = exp8(load8(row + j) - shift);
    store8(row + j, e);
    acc += e;
  }
  return sum8(acc);
}

}  // namespace mplug::tiles
