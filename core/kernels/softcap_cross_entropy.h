// The training loss of both families as one op: the mean cross-entropy of soft-capped logits,
//   loss = mean_r [ logsumexp_j c(l[r, j]) - c(l[r, target_r]) ],  c(l) = cap * tanh(l / cap)
// (c(l) = l without a cap), computed in float32 (float64 for float64) from logits in their own
// dtype. Implementations: `reference` (ATen, any device, any floating dtype, differentiable) and
// `cuda` (float32, bfloat16, float64; the kernels in softcap_cross_entropy.cu: two passes over
// each row forward, the second from L1/L2, one read and one write of the logits backward; no
// float32 logits, capped logits or probabilities ever reach memory).
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"

namespace griffin {

struct SoftCapCrossEntropyArgs {
  at::Tensor logits;  // [rows, vocab] float32, bfloat16, float16 or float64, before the cap
  // [rows] int64, each in [0, vocab); none is ignored. Outside it: an error from the reference
  // (an assertion on the GPU), NaN from the kernel.
  at::Tensor targets;
  double cap = 0.0;  // > 0: soft-cap the logits first; 0: none
};

// A scalar in the accumulation type; differentiable in the logits.
at::Tensor SoftCapCrossEntropy(const SoftCapCrossEntropyArgs& args, OpImpl impl);
void CheckSoftCapCrossEntropyArgs(const SoftCapCrossEntropyArgs& args);

namespace detail {
at::Tensor SoftCapCrossEntropyReference(const SoftCapCrossEntropyArgs& args);
at::Tensor SoftCapCrossEntropyCuda(const SoftCapCrossEntropyArgs& args);
}  // namespace detail

}  // namespace griffin
