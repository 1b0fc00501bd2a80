// A float32 or bfloat16 CPU tensor seen as its data pointer, element type, sizes and strides (in elements), read
// through the stable C ABI. Raw kernels work on these; nothing here keeps a reference to the tensor. float_rows.h
// reads and writes their rows as float32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dispatcher.h"

namespace mplug {

enum class ElementType { kFloat32, kBFloat16 };

// Which element types a tensor argument may have: statistics the kernels keep (log-sum-exp, mean, 1/std) are float32
// whatever the data's type.
enum class Accepts { kFloat32, kFloat32OrBFloat16 };

struct StridedView {
  void *data = nullptr;
  ElementType type = ElementType::kFloat32;
  std::vector<int64_t> size;
  std::vector<int64_t> stride;

  // The elements of a float32 view.
  float *floats() const { return static_cast<float *>(data); }
  // The elements of a bfloat16 view: the upper 16 bits of the float32 they stand for.
  uint16_t *bf16_bits() const { return static_cast<uint16_t *>(data); }
};

// Reads `t` into *view; on a problem returns a message naming `what` (empty on success). The tensor must be a CPU
// tensor of an accepted element type and of `dims` dimensions whose last dimension is contiguous (stride 1), as the
// kernels read rows.
inline std::string read_view(AtenTensorHandle t, const std::string &what, size_t dims, StridedView *view,
                             Accepts accepts = Accepts::kFloat32OrBFloat16) {
  if (t == nullptr) return what + " is NULL";
  int32_t dtype = 0, device = 0;
  void *data = nullptr;
  int64_t *strides = nullptr;
  if (aoti_torch_get_dtype(t, &dtype) != 0 || aoti_torch_get_device_type(t, &device) != 0 ||
      aoti_torch_get_data_ptr(t, &data) != 0) {
    return what + ": unreadable tensor handle";
  }
  if (dtype == aoti_torch_dtype_float32()) {
    view->type = ElementType::kFloat32;
  } else if (dtype == aoti_torch_dtype_bfloat16() && accepts == Accepts::kFloat32OrBFloat16) {
    view->type = ElementType::kBFloat16;
  } else {
    return what + (accepts == Accepts::kFloat32 ? ": must be float32" : ": must be float32 or bfloat16");
  }
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
  view->data = data;
  return "";
}

}  // namespace mplug
