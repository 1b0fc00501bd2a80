# Locates the libtorch shared libraries unpacked from the JavaCPP pytorch jar and defines an imported target
# `libtorch::stable_abi` that links them by full path (the jars ship no headers and no TorchConfig.cmake; the
# extension only uses the C-linkage aoti_torch_* shim, declared in native/src/stable_abi.h).
#
# Input: MPLUG_TORCH_LIB_DIR, the folder holding libtorch_cpu.so, libc10.so and libgomp.so.1.

if(NOT MPLUG_TORCH_LIB_DIR)
  message(FATAL_ERROR "MPLUG_TORCH_LIB_DIR is not set: point it at the folder with libtorch_cpu.so "
                      "(the Maven build unpacks it to target/libtorch/org/bytedeco/pytorch/linux-x86_64)")
endif()

foreach(lib torch_cpu c10)
  set(path "${MPLUG_TORCH_LIB_DIR}/lib${lib}.so")
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "lib${lib}.so not found in MPLUG_TORCH_LIB_DIR=${MPLUG_TORCH_LIB_DIR}")
  endif()
  list(APPEND MPLUG_TORCH_LIBRARIES "${path}")
endforeach()

# libtorch's own OpenMP runtime (soname libgomp.so.1, loaded with libtorch): the fused kernels' parallel regions run on
# libtorch's thread team instead of a second runtime's.
set(MPLUG_TORCH_GOMP "${MPLUG_TORCH_LIB_DIR}/libgomp.so.1")
if(NOT EXISTS "${MPLUG_TORCH_GOMP}")
  message(FATAL_ERROR "libgomp.so.1 not found in MPLUG_TORCH_LIB_DIR=${MPLUG_TORCH_LIB_DIR}")
endif()
if(NOT TARGET libtorch::openmp)
  add_library(libtorch::openmp INTERFACE IMPORTED)
  set_target_properties(libtorch::openmp PROPERTIES INTERFACE_LINK_LIBRARIES "${MPLUG_TORCH_GOMP}")
endif()

if(NOT TARGET libtorch::stable_abi)
  add_library(libtorch::stable_abi INTERFACE IMPORTED)
  set_target_properties(libtorch::stable_abi PROPERTIES INTERFACE_LINK_LIBRARIES "${MPLUG_TORCH_LIBRARIES}")
endif()
