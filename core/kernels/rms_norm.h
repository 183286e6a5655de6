// RMSNorm with the (1 + scale) gain of both families as one op (docs in core/model/layers.h):
//   y = x * rsqrt(mean(x^2) + eps) * (1 + scale), in float32 (float64 for float64), returned in
//   x's dtype. Implementations: `reference` (ATen, any device, any floating dtype,
//   differentiable) and `cuda` (float32, bfloat16, float64; the kernels in rms_norm.cu: two
//   passes over each row, the second from L1/L2, so x is read from memory about once; backward
//   through autograd, with deterministic gradients of the scale).
#pragma once

#include <ATen/core/Tensor.h>

#include "core/kernels/op_impl.h"

namespace griffin {

struct RmsNormArgs {
  at::Tensor x;      // [..., dim] float32, bfloat16, float16 or float64
  at::Tensor scale;  // [dim], any floating dtype; the gain is 1 + scale in the accumulation type
  double eps = 1e-6;
};

at::Tensor RmsNormOp(const RmsNormArgs& args, OpImpl impl);  // x's shape and dtype
void CheckRmsNormArgs(const RmsNormArgs& args);

// The residual add and the norm after it in one op: {x + delta, RMSNorm(x + delta)}, the sum
// rounded to x's dtype before the norm reads it, as the two ATen ops round. `cuda` is inference
// only (one read of x and delta, no autograd); the model uses it wherever no gradient is taken.
struct AddRmsNorm {
  at::Tensor sum, normed;
};
AddRmsNorm AddRmsNormOp(const RmsNormArgs& args, const at::Tensor& delta, OpImpl impl);

namespace detail {
at::Tensor RmsNormReference(const RmsNormArgs& args);
at::Tensor RmsNormCuda(const RmsNormArgs& args);
AddRmsNorm AddRmsNormReference(const RmsNormArgs& args, const at::Tensor& delta);
AddRmsNorm AddRmsNormCuda(const RmsNormArgs& args, const at::Tensor& delta);
}  // namespace detail

}  // namespace griffin
