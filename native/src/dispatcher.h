// Small RAII helpers over the stable C ABI: an owned tensor handle and typed stack slots for the dispatcher.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "stable_abi.h"

namespace mplug {

// Owns one heap at::Tensor* handle; frees it unless released.
class Handle {
 public:
  Handle() = default;
  explicit Handle(AtenTensorHandle h) : h_(h) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  Handle(Handle &&o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  Handle &operator=(Handle &&o) noexcept {
    reset();
    h_ = o.h_;
    o.h_ = nullptr;
    return *this;
  }
  ~Handle() { reset(); }

  AtenTensorHandle get() const { return h_; }
  AtenTensorHandle release() {
    AtenTensorHandle h = h_;
    h_ = nullptr;
    return h;
  }
  void reset() {
    if (h_ != nullptr) aoti_torch_delete_tensor_object(h_);
    h_ = nullptr;
  }

 private:
  AtenTensorHandle h_ = nullptr;
};

// A new reference to the same tensor (refcount + 1): what the dispatcher may steal from a borrowed input.
inline bool new_reference(AtenTensorHandle borrowed, Handle *out) {
  AtenTensorHandle h = nullptr;
  if (aoti_torch_new_tensor_handle(borrowed, &h) != 0) return false;
  *out = Handle(h);
  return true;
}

inline StableIValue tensor_slot(Handle &&h) { return reinterpret_cast<StableIValue>(h.release()); }
inline StableIValue int_slot(int64_t v) {
  StableIValue s = 0;
  std::memcpy(&s, &v, sizeof v);
  return s;
}
inline StableIValue double_slot(double v) {
  StableIValue s = 0;
  std::memcpy(&s, &v, sizeof v);
  return s;
}
inline StableIValue bool_slot(bool v) {
  StableIValue s = 0;
  std::memcpy(&s, &v, sizeof v);
  return s;
}
// A present optional is a pointer to a NEW heap StableIValue holding the value, which libtorch deletes when it
// unboxes the argument; absent is 0.
inline StableIValue optional_slot(StableIValue value) { return reinterpret_cast<StableIValue>(new StableIValue(value)); }

// Calls op.overload; on success *result owns the first returned tensor. False on a libtorch error (its message is
// printed by libtorch on stderr; the stable ABI does not hand it back).
inline bool call(const char *op, const char *overload, std::vector<StableIValue> &stack, Handle *result) {
  if (aoti_torch_call_dispatcher(op, overload, stack.data()) != 0) return false;
  *result = Handle(reinterpret_cast<AtenTensorHandle>(stack[0]));
  return true;
}

// The sizes of a tensor, or an empty vector when the handle is unusable.
inline std::vector<int64_t> sizes_of(AtenTensorHandle t) {
  int64_t dim = 0;
  int64_t *sizes = nullptr;
  if (aoti_torch_get_dim(t, &dim) != 0 || aoti_torch_get_sizes(t, &sizes) != 0) return {};
  return std::vector<int64_t>(sizes, sizes + dim);
}

inline std::string shape_string(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

}  // namespace mplug
