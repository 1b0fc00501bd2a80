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

}
