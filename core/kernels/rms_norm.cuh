// ATen-free interface of the RMSNorm kernels (the math: rms_norm.h). x, y, grads: [rows, dim]
// contiguous in `kind`; gain_scale: [dim] the scale in the accumulation type (the kernels add the
// 1); rstd: [rows] accumulation type, written by the forward, read by the backward.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

struct RmsNormShape {
  int64_t rows, dim;
  ScalarKind kind;
};

// Rows per partial sum of the scale's gradient: grad_scale_partial has RmsNormPartialRows(rows)
// rows of dim values, which the caller adds in a fixed order (deterministic).
int64_t RmsNormPartialRows(int64_t rows);

cudaError_t LaunchRmsNormForward(const RmsNormShape& s, const void* x, const void* scale,
                                 double eps, void* y, void* rstd, cudaStream_t stream);

// grad_x: [rows, dim] in `kind`; grad_scale_partial: [RmsNormPartialRows(rows), dim], accumulation
// type.
cudaError_t LaunchRmsNormBackward(const RmsNormShape& s, const void* x, const void* scale,
                                  const void* rstd, const void* grad_y, void* grad_x,
                                  void* grad_scale_partial, cudaStream_t stream);

}  // namespace griffin::kernels
