// The training loss of both families as one op: the mean cross-entropy of soft-capped logits,
//   loss = mean_r [ logsumexp_j c(l[r, j]) - c(l[r, target_r]) ],  c(l) = cap * tanh(l / cap)
// (c(l) = l without a cap), computed in float32 (float64 for float64) from logits in their own
// dtype. Implementations: `reference` (ATen, any device, differentiable) and `cuda` (the kernels
// in softcap_cross_entropy.cu: one read of the logits forward, one read and one write of them
// backward; no float32 logits, capped logits or probabilities ever reach memory).
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"

namespace griffin {

struct SoftCapCrossEntropyArgs {
  at::Tensor logits;   // [rows, vocab] float32, bfloat16 or float64, before the cap
  at::Tensor targets;  // [rows] int64, each in [0, vocab) (the kernel gives NaN for one outside)
  double cap = 0.0;    // > 0: soft-cap the logits first; 0: none
};

// A scalar in the accumulation type; differentiable in the logits.
at::Tensor SoftCapCrossEntropy(const SoftCapCrossEntropyArgs& args, OpImpl impl);
void CheckSoftCapCrossEntropyArgs(const SoftCapCrossEntropyArgs& args);

namespace detail {
at::Tensor SoftCapCrossEntropyReference(const SoftCapCrossEntropyArgs& args);
at::Tensor SoftCapCrossEntropyCuda(const SoftCapCrossEntropyArgs& args);
}  // namespace detail

}  // namespace griffin
