// Argument checks, dispatch and the ATen reference of the soft-capped cross-entropy op.
#include "core/kernels/softcap_cross_entropy.h"

#include <ATen/ATen.h>

#include <limits>

namespace griffin {

void CheckSoftCapCrossEntropyArgs(const SoftCapCrossEntropyArgs& a) {
  TORCH_CHECK(a.logits.dim() == 2, "softcap_cross_entropy: logits must be [rows, vocab], got ",
              a.logits.sizes());
  const at::ScalarType t = a.logits.scalar_type();
  TORCH_CHECK(t == at::kFloat || t == at::kBFloat16 || t == at::kHalf || t == at::kDouble,
              "softcap_cross_entropy: logits must be float32, bfloat16, float16 or float64, got ",
              t);
  TORCH_CHECK(a.logits.size(1) >= 1, "softcap_cross_entropy: the vocabulary is empty");
  TORCH_CHECK(a.targets.dim() == 1 && a.targets.size(0) == a.logits.size(0) &&
                  a.targets.scalar_type() == at::kLong,
              "softcap_cross_entropy: targets must be int64 [", a.logits.size(0), "], got ",
              a.targets.scalar_type(), " ", a.targets.sizes());
  TORCH_CHECK(a.targets.device() == a.logits.device(), "softcap_cross_entropy: targets are on ",
              a.targets.device(), " but logits on ", a.logits.device());
  TORCH_CHECK(a.cap >= 0.0, "softcap_cross_entropy: cap must be >= 0 (0: none), got ", a.cap);
}

at::Tensor SoftCapCrossEntropy(const SoftCapCrossEntropyArgs& args, OpImpl impl) {
  CheckSoftCapCrossEntropyArgs(args);
  return CallImpl(impl, "softcap_cross_entropy", &detail::SoftCapCrossEntropyReference,
                  GRIFFIN_CUDA_OP(detail::SoftCapCrossEntropyCuda), args);
}

namespace detail {

at::Tensor SoftCapCrossEntropyReference(const SoftCapCrossEntropyArgs& a) {
  const at::ScalarType acc = a.logits.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor logits = a.logits.to(acc);
  if (a.cap > 0) logits = at::tanh(logits / a.cap) * a.cap;
  // No target is ignored (ATen's default ignores -100): every row counts, as in the kernel.
  return at::cross_entropy_loss(logits, a.targets, /*weight=*/std::nullopt, at::Reduction::Mean,
                                /*ignore_index=*/std::numeric_limits<int64_t>::min());
}

}  // namespace detail
}  // namespace griffin
