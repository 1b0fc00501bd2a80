// CPU-only builds: the CUDA entry points exist (so the C API is the same in every build) and say why they cannot run.
#include "status.h"

extern "C" {

int32_t mplug_cuda_compiled(void) { return 0; }

int32_t mplug_cuda_masked_softmax(const float *, const float *, float *, int64_t, int64_t, int64_t, float, void *) {
  mplug::clear_error();
  return mplug::fail(MPLUG_ERR_UNSUPPORTED,
                     "mplug_cuda_masked_softmax: this build has no CUDA kernels (rebuild with -Dmplug.cuda=ON on a "
                     "machine with the CUDA toolkit)");
}


int32_t mplug_cuda_joint_attention_forward(const void *const *, const int64_t *, int32_t, const void *const *,
                                           const void *const *, const float *const *, const int64_t *, int32_t,
                                           int64_t, int64_t, int64_t, int64_t, int32_t, float, float, uint64_t,
                                           void *const *, float *const *, void *) {
  mplug::clear_error();
  return mplug::fail(MPLUG_ERR_UNSUPPORTED, "mplug_cuda_joint_attention_forward: this build has no CUDA kernels "
                                            "(rebuild with -Dmplug.cuda=ON on a machine with the CUDA toolkit)");
}

int32_t mplug_cuda_joint_attention_backward(const void *const *, const int64_t *, int32_t, const void *const *,
                                            const void *const *, const float *const *, const int64_t *, int32_t,
                                            int64_t, int64_t, int64_t, int64_t, int32_t, float, float, uint64_t,
                                            const void *const *, const float *const *, const void *const *,
                                            float *const *, void *const *, void *const *, void *const *, void *) {
  mplug::clear_error();
  return mplug::fail(MPLUG_ERR_UNSUPPORTED, "mplug_cuda_joint_attention_backward: this build has no CUDA kernels "
                                            "(rebuild with -Dmplug.cuda=ON on a machine with the CUDA toolkit)");
}

int32_t mplug_cuda_residual_layer_norm_forward(const void *, const float *, const void *, const float *, const float *,
                                               int64_t, int64_t, int32_t, float, uint64_t, float, void *, float *,
                                               float *, void *) {
  mplug::clear_error();
  return mplug::fail(MPLUG_ERR_UNSUPPORTED, "mplug_cuda_residual_layer_norm_forward: this build has no CUDA kernels "
                                            "(rebuild with -Dmplug.cuda=ON on a machine with the CUDA toolkit)");
}

int32_t mplug_cuda_residual_layer_norm_backward(const void *, const float *, const void *, const float *,
                                                const float *, int64_t, int64_t, int32_t, float, uint64_t, float,
                                                const float *, const float *, const void *, void *, void *, float *,
                                                float *, float *, void *) {
  mplug::clear_error();
  return mplug::fail(MPLUG_ERR_UNSUPPORTED, "mplug_cuda_residual_layer_norm_backward: this build has no CUDA kernels "
                                            "(rebuild with -Dmplug.cuda=ON on a machine with the CUDA toolkit)");
}

}
