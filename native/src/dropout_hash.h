// The dropout draw of the fused attention kernels, shared by the CPU and CUDA sources so that both drop the same
// probabilities for the same seed: a counter-based hash, so backward recomputes the forward's mask from (seed, row,
// key) without storing it. The row key mixes the seed with the global row index (batch x head x query); each key
// index then gets an independent 32-bit draw, dropped when below p * 2^32.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define MPLUG_HOST_DEVICE __host__ __device__
#else
#define MPLUG_HOST_DEVICE
#endif

namespace mplug::dropout {

MPLUG_HOST_DEVICE inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

MPLUG_HOST_DEVICE inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

MPLUG_HOST_DEVICE inline uint32_t row_key(uint64_t seed, uint64_t row) {
  return static_cast<uint32_t>(mix64(seed ^ mix64(row)));
}

MPLUG_HOST_DEVICE inline bool kept(uint32_t row_key, uint32_t key, uint32_t threshold) {
  return mix32(row_key ^ (key * 0x9e3779b9U)) >= threshold;
}

// p * 2^32, saturated: a draw below it is dropped.
MPLUG_HOST_DEVICE inline uint32_t threshold(float p) {
  const double t = static_cast<double>(p) * 4294967296.0;
  return t >= 4294967295.0 ? 4294967295U : static_cast<uint32_t>(t);
}

}  // namespace mplug::dropout
