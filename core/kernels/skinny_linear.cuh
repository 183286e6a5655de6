// ATen-free interface of the skinny matrix product (the math: skinny_linear.h): y = x w^T + b for
// a few rows of x, the decode step's products. x: [rows, in], w: [out, in] (row-major, as a torch
// Linear's weight), b: [out] or null, y: [rows, out]; all contiguous in `kind`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

inline constexpr int kSkinnyLinearMaxRows = 4;

struct SkinnyLinearShape {
  int64_t rows, in, out;
  ScalarKind kind;  // float32 or bfloat16
};

cudaError_t LaunchSkinnyLinear(const SkinnyLinearShape& s, const void* x, const void* w,
                               const void* b, void* y, cudaStream_t stream);

}  // namespace griffin::kernels
