// ATen-facing wrapper of the CUDA Conv1D kernels, and the autograd Function pairing them.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/kernels/conv1d.cuh"
#include "core/kernels/conv1d.h"
#include "core/kernels/launch_check.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Conv1dOperands {
  at::Tensor u, positions, w, b, tail, tail_positions;
  explicit Conv1dOperands(const Conv1dArgs& a)
      : u(a.u.contiguous()),
        positions(a.positions.contiguous()),
        w(a.w.contiguous()),
        b(a.b.contiguous()),
        tail(a.tail.contiguous()),
        tail_positions(a.tail_positions.contiguous()) {}
  kernels::Conv1dInputs View() const {
    kernels::Conv1dInputs in{};
    in.u = u.data_ptr();
    in.positions = positions.data_ptr<int64_t>();
    in.w = w.data_ptr();
    in.b = b.data_ptr();
    in.tail = tail.numel() > 0 ? tail.data_ptr() : nullptr;
    in.tail_positions = tail_positions.numel() > 0 ? tail_positions.data_ptr<int64_t>() : nullptr;
    in.batch = u.size(0);
    in.seq_len = u.size(1);
    in.dim = u.size(2);
    in.width = w.size(0);
    in.kind = KernelScalarKind(u.scalar_type());
    return in;
  }
};

at::Tensor Forward(const Conv1dOperands& o) {
  TORCH_CHECK(o.u.size(0) <= 65535, "conv1d[cuda]: batch ", o.u.size(0), " exceeds 65535");
  at::Tensor out = at::empty_like(o.u);
  CheckLaunch(
      kernels::LaunchConv1dForward(o.View(), out.data_ptr(), at::cuda::getCurrentCUDAStream()),
      "conv1d", "forward");
  return out;
}

class Conv1dFunction : public torch::autograd::Function<Conv1dFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& u, const at::Tensor& w,
                               const at::Tensor& b, const at::Tensor& positions,
                               const at::Tensor& tail, const at::Tensor& tail_positions) {
    const Conv1dOperands o(Conv1dArgs{u, positions, w, b, tail, tail_positions});
    ctx->save_for_backward({u, w, b, positions, tail, tail_positions});
    return {Forward(o)};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list s = ctx->get_saved_variables();
    const Conv1dOperands o(Conv1dArgs{s[0], s[3], s[1], s[2], s[4], s[5]});
    const at::Tensor g =
        (grads[0].defined() ? grads[0] : at::zeros_like(o.u)).to(o.u.scalar_type()).contiguous();
    const int64_t B = o.u.size(0), D = o.u.size(2), W = o.w.size(0);
    const int64_t rows = B * kernels::Conv1dTimeTiles(o.u.size(1));
    const int64_t padded = kernels::Conv1dPaddedDim(D);
    const at::ScalarType acc = AccumulationType(o.u.scalar_type());
    at::Tensor grad_u = at::empty_like(o.u);
    // Every entry of both partials is written by the kernel (each block its row, every padded
    // channel), so they need no zeroing.
    at::Tensor grad_w = at::empty({rows, W, padded}, o.u.options().dtype(acc));
    at::Tensor grad_b = at::empty({rows, padded}, o.u.options().dtype(acc));
    CheckLaunch(
        kernels::LaunchConv1dBackward(o.View(), g.data_ptr(), grad_u.data_ptr(), grad_w.data_ptr(),
                                      grad_b.data_ptr(), at::cuda::getCurrentCUDAStream()),
        "conv1d", "backward");
    // Fixed-shape ATen sums (no atomics): the same bits on every run.
    return {grad_u,
            grad_w.sum(0).narrow(1, 0, D).to(o.w.scalar_type()),
            grad_b.sum(0).narrow(0, 0, D).to(o.b.scalar_type()),
            at::Tensor(),
            at::Tensor(),
            at::Tensor()};
  }
};

}  // namespace

at::Tensor Conv1dCuda(const Conv1dArgs& a) {
  CheckOnCuda(a.u.is_cuda(), "conv1d", a.u.device().str());
  const c10::cuda::CUDAGuard guard(a.u.device());
  const bool needs_grad = at::GradMode::is_enabled() &&
                          (a.u.requires_grad() || a.w.requires_grad() || a.b.requires_grad());
  if (!needs_grad) return Forward(Conv1dOperands(a));
  return Conv1dFunction::apply(a.u, a.w, a.b, a.positions, a.tail, a.tail_positions)[0];
}

}  // namespace griffin::detail
