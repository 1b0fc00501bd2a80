#!/usr/bin/env bash
# Builds the CUDA joint attention kernels alone (nvcc, no Java, no libtorch link) and checks them against PyTorch:
# values and gradients of every segment, dropout, then timings against scaled_dot_product_attention and eager ops.
# Needs: a CUDA GPU, nvcc, Python 3 with PyTorch (CUDA build). Usage: native/cuda/check_on_gpu.sh [sm arch, e.g. 90]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ARCH="${1:-native}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
if [ "$ARCH" = native ]; then GENCODE=(-arch=native); else GENCODE=(-gencode "arch=compute_${ARCH},code=sm_${ARCH}"); fi
nvcc -std=c++17 -O3 "${GENCODE[@]}" -Xcompiler -fPIC -shared \
  -I "$ROOT/jextract" -I "$ROOT/native/src" \
  "$ROOT/native/cuda/joint_attention.cu" "$ROOT/native/src/status.cpp" \
  -o "$OUT/libmplug_cuda_check.so"
python3 "$ROOT/native/cuda/check_on_gpu.py" "$OUT/libmplug_cuda_check.so"
