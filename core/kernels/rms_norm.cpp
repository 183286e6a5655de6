// Argument checks, dispatch and the ATen reference of the RMSNorm op.
#include "core/kernels/rms_norm.h"

#include <ATen/ATen.h>

namespace griffin {

void CheckRmsNormArgs(const RmsNormArgs& a) {
  TORCH_CHECK(a.x.dim() >= 1, "rms_norm: x must have a last dimension, got a scalar");
  const at::ScalarType t = a.x.scalar_type();
  TORCH_CHECK(t == at::kFloat || t == at::kBFloat16 || t == at::kHalf || t == at::kDouble,
              "rms_norm: x must be float32, bfloat16, float16 or float64, got ", t);
  const int64_t D = a.x.size(-1);
  TORCH_CHECK(D >= 1, "rms_norm: x's last dimension must be >= 1, got ", a.x.sizes());
  TORCH_CHECK(a.scale.dim() == 1 && a.scale.size(0) == D, "rms_norm: scale must be [", D,
              "] (x's last dimension), got ", a.scale.sizes());
  TORCH_CHECK(at::isFloatingType(a.scale.scalar_type()),
              "rms_norm: scale must be floating point, got ", a.scale.scalar_type());
  TORCH_CHECK(a.scale.device() == a.x.device(), "rms_norm: scale is on ", a.scale.device(),
              " but x is on ", a.x.device());
  TORCH_CHECK(a.eps > 0.0, "rms_norm: eps must be > 0, got ", a.eps);
}

at::Tensor RmsNormOp(const RmsNormArgs& args, OpImpl impl) {
  CheckRmsNormArgs(args);
  return CallImpl(impl, "rms_norm", &detail::RmsNormReference, GRIFFIN_CUDA_OP(detail::RmsNormCuda),
                  args);
}

AddRmsNorm AddRmsNormOp(const RmsNormArgs& args, const at::Tensor& delta, OpImpl impl) {
  CheckRmsNormArgs(args);
  TORCH_CHECK(delta.sizes() == args.x.sizes() && delta.scalar_type() == args.x.scalar_type() &&
                  delta.device() == args.x.device(),
              "add_rms_norm: delta must be ", args.x.scalar_type(), " ", args.x.sizes(), " on ",
              args.x.device(), " (x's), got ", delta.scalar_type(), " ", delta.sizes(), " on ",
              delta.device());
  return CallImpl(impl, "add_rms_norm", &detail::AddRmsNormReference,
                  GRIFFIN_CUDA_OP(detail::AddRmsNormCuda), args, delta);
}

namespace detail {

at::Tensor RmsNormReference(const RmsNormArgs& a) {
  const at::ScalarType acc = a.x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor x = a.x.to(acc);
  const at::Tensor var = x.pow(2).mean(-1, /*keepdim=*/true);
  return (x * at::rsqrt(var + a.eps) * (1.0 + a.scale.to(acc))).to(a.x.scalar_type());
}

AddRmsNorm AddRmsNormReference(const RmsNormArgs& a, const at::Tensor& delta) {
  const at::Tensor sum = a.x + delta;
  return {sum, RmsNormReference({sum, a.scale, a.eps})};
}

}  // namespace detail
}  // namespace griffin
