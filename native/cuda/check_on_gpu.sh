#!/usr/bin/env bash
# The device check of the native extension's CUDA kernels (under ten minutes, no Java needed): builds native/cuda/*.cu
# alone with nvcc (no libtorch link) and checks them against PyTorch from Python: the joint attention (values and
# gradients of every segment, dropout and its hash), bias + dropout + residual + LayerNorm (float32 and bfloat16), the
# masked softmax; then times them against scaled_dot_product_attention and eager ops. When CMake is installed it also
# builds the whole extension with -DMPLUG_CUDA=ON against the Python wheel's libtorch, as the Maven gpu profile does.
# Needs: a CUDA GPU, nvcc, Python 3 with PyTorch (CUDA build). Usage: native/cuda/check_on_gpu.sh [sm arch, e.g. 90]
# With MPLUG_CHECK_PROFILE=1 it then profiles the first launches of each kernel with Nsight Compute (ncu): speed of
# light, occupancy and memory workload, the profile behind the timings.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ARCH="${1:-native}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
if [ "$ARCH" = native ]; then GENCODE=(-arch=native); else GENCODE=(-gencode "arch=compute_${ARCH},code=sm_${ARCH}"); fi
nvcc -std=c++17 -O3 "${GENCODE[@]}" -Xcompiler -fPIC -shared \
  -I "$ROOT/jextract" -I "$ROOT/native/src" \
  "$ROOT/native/cuda/joint_attention.cu" "$ROOT/native/cuda/residual_layer_norm.cu" \
  "$ROOT/native/cuda/masked_softmax.cu" "$ROOT/native/src/status.cpp" \
  -o "$OUT/libmplug_cuda_check.so"
if command -v cmake >/dev/null 2>&1; then
  TORCH_LIB="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
  # The wheel names its OpenMP runtime libgomp-<hash>.so.1; the CMake module wants libgomp.so.1 beside libtorch_cpu.so.
  mkdir -p "$OUT/torchlib"
  ln -sf "$TORCH_LIB"/libtorch_cpu.so "$TORCH_LIB"/libc10.so "$OUT/torchlib/"
  ln -sf "$(ls "$TORCH_LIB"/libgomp*.so* 2>/dev/null | head -1 || echo /nonexistent)" "$OUT/torchlib/libgomp.so.1"
  CUDA_ARCH="$ARCH"; [ "$ARCH" = native ] && CUDA_ARCH=native
  if cmake -S "$ROOT/native" -B "$OUT/cmake" -DMPLUG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" \
       -DMPLUG_TORCH_LIB_DIR="$OUT/torchlib" >"$OUT/cmake.log" 2>&1 && cmake --build "$OUT/cmake" -j >>"$OUT/cmake.log" 2>&1; then
    echo "OK     CMake build with -DMPLUG_CUDA=ON: $(nm -D "$OUT/cmake/lib/libmplug_native.so" | grep -c ' T mplug_cuda_') CUDA entry points exported"
  else
    echo "NOT OK CMake build with -DMPLUG_CUDA=ON:"; tail -20 "$OUT/cmake.log"; CMAKE_FAILED=1
  fi
else
  echo "(cmake not installed: the CMake build with -DMPLUG_CUDA=ON was not tried)"
fi
python3 "$ROOT/native/cuda/check_on_gpu.py" "$OUT/libmplug_cuda_check.so"
if [ "${MPLUG_CHECK_PROFILE:-0}" = 1 ]; then
  KERNELS='regex:^(forward_kernel|delta_kernel|grad_kv_kernel|grad_q_kernel|backward_\w+_kernel)$'
  MPLUG_PROFILE_ONCE=1 ncu --kernel-name-base function --kernel-name "$KERNELS" --section SpeedOfLight \
    --section Occupancy --section LaunchStats python3 "$ROOT/native/cuda/check_on_gpu.py" "$OUT/libmplug_cuda_check.so"
fi
exit "${CMAKE_FAILED:-0}"
