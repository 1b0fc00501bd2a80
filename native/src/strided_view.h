// A float32 CPU tensor seen as its data pointer, sizes and strides (in elements), read through the stable C ABI.
// Raw kernels work on these; nothing here keeps a reference to the tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dispatcher.h"

namespace mplug {

struct StridedView {
  float *data = nullptr;
  std::vector<int64_t> size;
  std::vector<int64_t> stride;
};

// Reads `t` into *view; on a problem returns a message naming `what` (empty on success). The tensor must be a
// float32 CPU tensor of `dims` dimensions whose last dimension is contiguous (stride 1), as the kernels read rows.
inline std::string read_view(AtenTensorHandle t, const std::string &what, size_t dims, StridedView *view) {
  if (t == nullptr) return what + " is NULL";
  int32_t dtype = 0, device = 0;
  void *data = nullptr;
  int64_t *strides = nullptr;
  if (aoti_torch_get_dtype(t, &dtype) != 0 || aoti_torch_get_device_type(t, &device) != 0 ||
      aoti_torch_get_data_ptr(t, &data) != 0) {
    return what + ": unreadable tensor handle";
  }
  if (dtype != aoti_torch_dtype_float32()) return what + ": must be float32";
  if (device != aoti_torch_device_type_cpu()) return what + ": must be a CPU tensor";
  view->size = sizes_of(t);
  if (view->size.size() != dims) {
    return what + " must be " + std::to_string(dims) + "-d; got " + shape_string(view->size);
  }
  if (aoti_torch_get_strides(t, &strides) != 0) return what + ": unreadable strides";
  view->stride.assign(strides, strides + dims);
  if (view->size.back() > 1 && view->stride.back() != 1) {
    return what + ": the last dimension must be contiguous (stride 1); got strides " + shape_string(view->stride);
  }
  view->data = static_cast<float *>(data);
  return "";
}

}  // namespace mplug
