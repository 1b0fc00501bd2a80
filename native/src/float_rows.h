// Rows of float32 or bfloat16 tensors (strided_view.h) read and written as float32, so that one kernel body computes
// in float32 whatever the element type of its inputs and outputs. bfloat16 is the upper half of a float32: reading
// shifts it up by 16 bits (8 lanes at a time, AVX2 in the kernels' AVX2 clones); writing rounds to nearest, ties to
// even (NaN stays a quiet NaN), as libtorch's BFloat16 conversion does. Header-only and inlined into every kernel
// clone, like flash_tiles.h.
#pragma once

#include <cstdint>
#include <cstring>

#include "flash_tiles.h"
#include "strided_view.h"

namespace mplug {

namespace bf16 {

typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));

inline float to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t from_float(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffU) > 0x7f800000U) return 0x7fc0;   // NaN
  return static_cast<uint16_t>((bits + 0x7fffU + ((bits >> 16) & 1U)) >> 16);
}

inline tiles::v8 widen8(const uint16_t *p) {
  u16x8 h;
  std::memcpy(&h, p, sizeof h);
  const u32x8 bits = __builtin_convertvector(h, u32x8) << 16;
  tiles::v8 f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline void narrow8(uint16_t *p, tiles::v8 f) {
  u32x8 bits;
  std::memcpy(&bits, &f, sizeof bits);
  const u32x8 rounded = (bits + 0x7fffU + ((bits >> 16) & 1U)) >> 16;
  const u32x8 nan = (u32x8)((bits & 0x7fffffffU) > 0x7f800000U);   // all ones where NaN
  const u32x8 out = (rounded & ~nan) | (0x7fc0U & nan);
  const u16x8 h = __builtin_convertvector(out, u16x8);
  std::memcpy(p, &h, sizeof h);
}

}  // namespace bf16

// Element `at` of x as float32.
__attribute__((always_inline)) inline float read_float(const StridedView &x, int64_t at) {
  return x.type == ElementType::kFloat32 ? x.floats()[at] : bf16::to_float(x.bf16_bits()[at]);
}

// The n elements of x from element `at`, as float32: x's own storage when it is float32, else converted into stage.
__attribute__((always_inline)) inline const float *read_floats(const StridedView &x, int64_t at, int64_t n,
                                                               float *stage) {
  if (x.type == ElementType::kFloat32) return x.floats() + at;
  const uint16_t *src = x.bf16_bits() + at;
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) tiles::store8(stage + c, bf16::widen8(src + c));
  for (; c < n; ++c) stage[c] = bf16::to_float(src[c]);
  return stage;
}

// Where a kernel writes the float32 values of x's n elements from `at`: x's own storage when it is float32, else
// stage; store_floats then puts them in place.
__attribute__((always_inline)) inline float *write_target(const StridedView &x, int64_t at, float *stage) {
  return x.type == ElementType::kFloat32 ? x.floats() + at : stage;
}

// x[at .. at + n) = src, rounded to bfloat16 for a bfloat16 view (nothing to do when src is already x's storage).
__attribute__((always_inline)) inline void store_floats(const float *src, int64_t n, const StridedView &x,
                                                        int64_t at) {
  if (x.type == ElementType::kFloat32) {
    if (src != x.floats() + at) std::memcpy(x.floats() + at, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  uint16_t *dst = x.bf16_bits() + at;
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) bf16::narrow8(dst + c, tiles::load8(src + c));
  for (; c < n; ++c) dst[c] = bf16::from_float(src[c]);
}

}  // namespace mplug
