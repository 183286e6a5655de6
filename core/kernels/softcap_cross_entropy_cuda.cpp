// ATen-facing wrapper of the CUDA soft-capped cross-entropy kernels, and the autograd Function
// pairing them.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/kernels/launch_check.h"
#include "core/kernels/scan_workspace_alloc.h"
#include "core/kernels/softcap_cross_entropy.cuh"
#include "core/kernels/softcap_cross_entropy.h"

namespace griffin::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

kernels::SoftCapCrossEntropyShape ShapeOf(const at::Tensor& logits, double cap) {
  return {logits.size(0), logits.size(1), cap, KernelScalarKind(logits.scalar_type())};
}

// The per-row losses and log-sum-exps of contiguous logits.
std::pair<at::Tensor, at::Tensor> Forward(const at::Tensor& logits, const at::Tensor& targets,
                                          double cap) {
  const at::TensorOptions acc = logits.options().dtype(AccumulationType(logits.scalar_type()));
  at::Tensor loss = at::empty({logits.size(0)}, acc), lse = at::empty({logits.size(0)}, acc);
  CheckLaunch(kernels::LaunchSoftCapCrossEntropyForward(
                  ShapeOf(logits, cap), logits.data_ptr(), targets.data_ptr<int64_t>(),
                  loss.data_ptr(), lse.data_ptr(), at::cuda::getCurrentCUDAStream()),
              "softcap_cross_entropy", "forward");
  return {loss, lse};
}

class SoftCapCrossEntropyFunction : public torch::autograd::Function<SoftCapCrossEntropyFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& logits_in,
                               const at::Tensor& targets_in, double cap) {
    const at::Tensor logits = logits_in.contiguous(), targets = targets_in.contiguous();
    auto [loss, lse] = Forward(logits, targets, cap);
    ctx->save_for_backward({logits, targets, lse});
    ctx->saved_data["cap"] = cap;
    return {loss.mean()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list s = ctx->get_saved_variables();
    const at::Tensor& logits = s[0];
    const at::Tensor grad = grads[0].defined() ? grads[0].to(s[2].scalar_type()).contiguous()
                                               : at::zeros({}, s[2].options());
    at::Tensor grad_logits = at::empty_like(logits);
    CheckLaunch(kernels::LaunchSoftCapCrossEntropyBackward(
                    ShapeOf(logits, ctx->saved_data["cap"].toDouble()), logits.data_ptr(),
                    s[1].data_ptr<int64_t>(), s[2].data_ptr(), grad.data_ptr(),
                    grad_logits.data_ptr(), at::cuda::getCurrentCUDAStream()),
                "softcap_cross_entropy", "backward");
    return {grad_logits, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor SoftCapCrossEntropyCuda(const SoftCapCrossEntropyArgs& a) {
  CheckOnCuda(a.logits.is_cuda(), "softcap_cross_entropy", a.logits.device().str());
  const c10::cuda::CUDAGuard guard(a.logits.device());
  if (!(at::GradMode::is_enabled() && a.logits.requires_grad())) {
    return Forward(a.logits.contiguous(), a.targets.contiguous(), a.cap).first.mean();
  }
  return SoftCapCrossEntropyFunction::apply(a.logits, a.targets, a.cap)[0];
}

}  // namespace griffin::detail
