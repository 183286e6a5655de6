// ATen-free interface of the soft-capped cross-entropy kernels (the math:
// softcap_cross_entropy.h). logits, grad_logits: [rows, vocab] contiguous in `kind`; targets:
// [rows] int64; loss, lse: [rows] accumulation type (the forward writes both; the backward reads
// lse); grad_loss: one value of the accumulation type on the device, d(mean loss).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/kernels/kernel_common.cuh"

namespace griffin::kernels {

struct SoftCapCrossEntropyShape {
  int64_t rows, vocab;
  double cap;  // 0: none
  ScalarKind kind;
};

cudaError_t LaunchSoftCapCrossEntropyForward(const SoftCapCrossEntropyShape& s, const void* logits,
                                             const int64_t* targets, void* loss, void* lse,
                                             cudaStream_t stream);

cudaError_t LaunchSoftCapCrossEntropyBackward(const SoftCapCrossEntropyShape& s, const void* logits,
                                              const int64_t* targets, const void* lse,
                                              const void* grad_loss, void* grad_logits,
                                              cudaStream_t stream);

}  // namespace griffin::kernels
