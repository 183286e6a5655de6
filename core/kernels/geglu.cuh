// ATen-free interface of the GeGLU kernel (the math: geglu.h). gate_up: [rows, 2 * width]
// contiguous (gate, then up); out: [rows, width] contiguous; both in `kind`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

struct GegluShape {
  int64_t rows, width;
  ScalarKind kind;  // float32 or bfloat16
};

cudaError_t LaunchGeglu(const GegluShape& s, const void* gate_up, void* out, cudaStream_t stream);

}  // namespace griffin::kernels
