// ATen-facing wrapper of the CUDA RMSNorm kernels, and the autograd Function pairing them.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/kernels/launch_check.h"
#include "core/kernels/rms_norm.cuh"
#include "core/kernels/rms_norm.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// x as [rows, dim] contiguous, the scale contiguous in the accumulation type.
// A scale in x's own dtype is read as it is (a model's norm weights: converting them was a copy
// kernel before every norm, 4 us each, 0.2 ms of a RecurrentGemma-2B decode step); any other
// dtype is converted to the accumulation type.
struct RmsNormOperands {
  at::Tensor x, scale;
  at::TensorOptions acc;  // the accumulation type's options: rstd, the scale's gradient partials
  RmsNormOperands(const at::Tensor& x_in, const at::Tensor& scale_in)
      : x(x_in.reshape({-1, x_in.size(-1)}).contiguous()),
        scale(scale_in.scalar_type() == x_in.scalar_type()
                  ? scale_in.contiguous()
                  : scale_in.to(AccumulationType(x_in.scalar_type())).contiguous()),
        acc(x_in.options().dtype(AccumulationType(x_in.scalar_type()))) {}
  kernels::RmsNormShape Shape() const {
    return {x.size(0), x.size(1), KernelScalarKind(x.scalar_type()),
            scale.scalar_type() == x.scalar_type()};
  }
};

std::pair<at::Tensor, at::Tensor> Forward(const RmsNormOperands& o, double eps) {
  at::Tensor y = at::empty_like(o.x);
  at::Tensor rstd = at::empty({o.x.size(0)}, o.acc);
  CheckLaunch(kernels::LaunchRmsNormForward(o.Shape(), o.x.data_ptr(), o.scale.data_ptr(), eps,
                                            y.data_ptr(), rstd.data_ptr(),
                                            at::cuda::getCurrentCUDAStream()),
              "rms_norm", "forward");
  return {y, rstd};
}

class RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& scale,
                               double eps) {
    const RmsNormOperands o(x, scale);
    auto [y, rstd] = Forward(o, eps);
    ctx->save_for_backward({x, scale, rstd});
    return {y.view(x.sizes())};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list s = ctx->get_saved_variables();
    const RmsNormOperands o(s[0], s[1]);
    const at::Tensor g = (grads[0].defined() ? grads[0] : at::zeros_like(s[0]))
                             .to(o.x.scalar_type())
                             .reshape(o.x.sizes())
                             .contiguous();
    at::Tensor grad_x = at::empty_like(o.x);
    at::Tensor partial = at::empty({kernels::RmsNormPartialRows(o.x.size(0)), o.x.size(1)}, o.acc);
    CheckLaunch(kernels::LaunchRmsNormBackward(
                    o.Shape(), o.x.data_ptr(), o.scale.data_ptr(), s[2].data_ptr(), g.data_ptr(),
                    grad_x.data_ptr(), partial.data_ptr(), at::cuda::getCurrentCUDAStream()),
                "rms_norm", "backward");
    // A fixed-shape ATen sum of the partials (no atomics): the same bits on every run.
    return {grad_x.view(s[0].sizes()), partial.sum(0).to(s[1].scalar_type()), at::Tensor()};
  }
};

}  // namespace

at::Tensor RmsNormCuda(const RmsNormArgs& a) {
  CheckOnCuda(a.x.is_cuda(), "rms_norm", a.x.device().str());
  const c10::cuda::CUDAGuard guard(a.x.device());
  const bool needs_grad =
      at::GradMode::is_enabled() && (a.x.requires_grad() || a.scale.requires_grad());
  if (!needs_grad) return Forward(RmsNormOperands(a.x, a.scale), a.eps).first.view(a.x.sizes());
  return RmsNormFunction::apply(a.x, a.scale, a.eps)[0];
}

AddRmsNorm AddRmsNormCuda(const RmsNormArgs& a, const at::Tensor& delta) {
  CheckOnCuda(a.x.is_cuda(), "add_rms_norm", a.x.device().str());
  TORCH_CHECK(!at::GradMode::is_enabled() ||
                  !(a.x.requires_grad() || delta.requires_grad() || a.scale.requires_grad()),
              "add_rms_norm[cuda]: inference only (no autograd); training takes the reference");
  const c10::cuda::CUDAGuard guard(a.x.device());
  const RmsNormOperands o(a.x, a.scale);
  const at::Tensor d = delta.reshape(o.x.sizes()).contiguous();
  at::Tensor sum = at::empty_like(o.x), y = at::empty_like(o.x);
  CheckLaunch(kernels::LaunchAddRmsNormForward(o.Shape(), o.x.data_ptr(), d.data_ptr(),
                                               o.scale.data_ptr(), a.eps, sum.data_ptr(),
                                               y.data_ptr(), at::cuda::getCurrentCUDAStream()),
              "add_rms_norm", "forward");
  return {sum.view(a.x.sizes()), y.view(a.x.sizes())};
}

}  // namespace griffin::detail
