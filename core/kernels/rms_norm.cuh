// ATen-free interface of the RMSNorm kernels (the math: rms_norm.h). x, y, grads: [rows, dim]
// contiguous in `kind`; gain_scale: [dim] the scale in the accumulation type or in `kind` (the
// kernels add the 1); rstd: [rows] accumulation type, written by the forward, read by the backward.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

struct RmsNormShape {
  int64_t rows, dim;
  ScalarKind kind;
  // The scale is in `kind` rather than the accumulation type (a bf16 model's own norm weights,
  // read as they are instead of converted by a copy kernel before every norm).
  bool scale_in_kind = false;
};

// Rows per partial sum of the scale's gradient: grad_scale_partial has RmsNormPartialRows(rows)
// rows of dim values, which the caller adds in a fixed order (deterministic).
int64_t RmsNormPartialRows(int64_t rows);

cudaError_t LaunchRmsNormForward(const RmsNormShape& s, const void* x, const void* scale,
                                 double eps, void* y, void* rstd, cudaStream_t stream);

// sum = x + delta (rounded to `kind`), y = the norm of sum; delta and sum: [rows, dim] in `kind`.
cudaError_t LaunchAddRmsNormForward(const RmsNormShape& s, const void* x, const void* delta,
                                    const void* scale, double eps, void* sum, void* y,
                                    cudaStream_t stream);

// grad_x: [rows, dim] in `kind`; grad_scale_partial: [RmsNormPartialRows(rows), dim], accumulation
// type.
cudaError_t LaunchRmsNormBackward(const RmsNormShape& s, const void* x, const void* scale,
                                  const void* rstd, const void* grad_y, void* grad_x,
                                  void* grad_scale_partial, cudaStream_t stream);

}  // namespace griffin::kernels
