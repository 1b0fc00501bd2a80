// The slice of libtorch's stable C ABI (the aoti_torch_* shim exported with C linkage by libtorch_cpu.so) that the
// extension uses. The JavaCPP jars ship no headers, so the prototypes are declared here; they match
// torch/csrc/inductor/aoti_torch/c/shim.h of PyTorch 2.10.
#pragma once

#include <cstdint>

extern "C" {
struct AtenTensorOpaque;
typedef AtenTensorOpaque *AtenTensorHandle;  // an at::Tensor* on the heap
typedef int32_t AOTITorchError;              // 0 = success
typedef uint64_t StableIValue;               // tensors: handle bits; int/double/bool: raw bits; absent optional: 0

AOTITorchError aoti_torch_new_tensor_handle(AtenTensorHandle orig, AtenTensorHandle *out);
AOTITorchError aoti_torch_delete_tensor_object(AtenTensorHandle tensor);
AOTITorchError aoti_torch_get_dim(AtenTensorHandle tensor, int64_t *ret);
AOTITorchError aoti_torch_get_sizes(AtenTensorHandle tensor, int64_t **ret);
AOTITorchError aoti_torch_get_dtype(AtenTensorHandle tensor, int32_t *ret);
AOTITorchError aoti_torch_get_device_type(AtenTensorHandle tensor, int32_t *ret);
AOTITorchError aoti_torch_get_strides(AtenTensorHandle tensor, int64_t **ret);   // in elements
AOTITorchError aoti_torch_get_data_ptr(AtenTensorHandle tensor, void **ret);     // storage offset applied
int32_t aoti_torch_dtype_float32(void);
int32_t aoti_torch_dtype_bfloat16(void);
int32_t aoti_torch_device_type_cpu(void);
// Runs opName.overloadName with a boxed stack holding every schema argument; results replace stack[0..].
// Tensor arguments are STOLEN; tensor results are new handles owned by the caller.
AOTITorchError aoti_torch_call_dispatcher(const char *opName, const char *overloadName, StableIValue *stack);
}
