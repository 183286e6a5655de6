// ATen-facing wrapper of the fused RG-LRU kernels: layout, workspace, launch checks, and the
// autograd Function that pairs the forward kernel with the backward kernel.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/kernels/launch_check.h"
#include "core/kernels/rglru_scan.cuh"
#include "core/kernels/rglru_scan.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Operands {
  at::Tensor x, gate_x, gate_a, positions, softplus_a, h0;  // h0 undefined when absent

  Operands(const at::Tensor& x_in, const at::Tensor& gx, const at::Tensor& ga,
           const at::Tensor& a_param, const at::Tensor& pos, const at::Tensor& h0_in)
      : x(x_in.contiguous()),
        gate_x(gx.contiguous()),
        gate_a(ga.contiguous()),
        positions(pos.contiguous()),
        softplus_a(at::softplus(a_param.to(AccumulationType(x_in.scalar_type()))).contiguous()) {
    if (h0_in.defined()) h0 = h0_in.contiguous();
  }

  kernels::RgLruInputs View() const {
    kernels::RgLruInputs in{};
    in.x = x.data_ptr();
    in.gate_x = gate_x.data_ptr();
    in.gate_a = gate_a.data_ptr();
    in.positions = positions.data_ptr<int64_t>();
    in.softplus_a = softplus_a.data_ptr();
    in.h0 = h0.defined() ? h0.data_ptr() : nullptr;
    in.batch = x.size(0);
    in.seq_len = x.size(1);
    in.dim = x.size(2);
    in.kind = KernelScalarKind(x.scalar_type());
    return in;
  }
  at::ScalarType acc() const { return AccumulationType(x.scalar_type()); }
};

struct ForwardOut {
  at::Tensor y, h_last, carries;
};

ForwardOut RunForward(const Operands& o, const at::Tensor& gelu_gate) {
  const int64_t B = o.x.size(0), T = o.x.size(1), D = o.x.size(2);
  const at::Tensor gelu = gelu_gate.defined() ? gelu_gate.contiguous() : gelu_gate;
  ForwardOut out;
  out.y = at::empty_like(o.x);
  out.h_last = at::empty({B, D}, o.x.options().dtype(o.acc()));
  const ScanWorkspaceTensors ws = AllocateScanWorkspace(B, T, D, o.acc(), o.x.device());
  kernels::RgLruForwardParams p{};
  p.in = o.View();
  p.gelu_in = gelu.defined() ? gelu.data_ptr() : nullptr;
  p.y = out.y.data_ptr();
  p.h_last = out.h_last.data_ptr();
  p.workspace = ws.view();
  if (T == 0) {  // no steps: the final state is the initial one
    out.h_last = o.h0.defined() ? o.h0.clone() : at::zeros_like(out.h_last);
  } else {
    CheckLaunch(kernels::LaunchRgLruForward(p, at::cuda::getCurrentCUDAStream()), "rglru",
                "forward");
  }
  out.carries = ws.carries();
  return out;
}

struct BackwardOut {
  at::Tensor grad_x, grad_gate_x, grad_gate_a, grad_softplus, grad_h0;
};

BackwardOut RunBackward(const Operands& o, const at::Tensor& carries, const at::Tensor& grad_y) {
  const int64_t B = o.x.size(0), T = o.x.size(1), D = o.x.size(2);
  const ScanWorkspaceTensors ws = AllocateScanWorkspace(B, T, D, o.acc(), o.x.device());
  const at::Tensor g = grad_y.to(o.x.scalar_type()).contiguous();
  BackwardOut out;
  out.grad_x = at::empty_like(o.x);
  out.grad_gate_x = at::empty_like(o.x);
  out.grad_gate_a = at::empty_like(o.x);
  at::Tensor partial =
      at::empty({B, ws.shape.chunks, ws.shape.padded_dim}, o.x.options().dtype(o.acc()));
  if (o.h0.defined()) out.grad_h0 = at::empty({B, D}, o.x.options().dtype(o.acc()));
  kernels::RgLruBackwardParams p{};
  p.in = o.View();
  p.grad_y = g.data_ptr();
  p.carries = carries.data_ptr();
  p.grad_x = out.grad_x.data_ptr();
  p.grad_gate_x = out.grad_gate_x.data_ptr();
  p.grad_gate_a = out.grad_gate_a.data_ptr();
  p.grad_softplus_partial = partial.data_ptr();
  p.grad_h0 = o.h0.defined() ? out.grad_h0.data_ptr() : nullptr;
  p.workspace = ws.view();
  CheckLaunch(kernels::LaunchRgLruBackward(p, at::cuda::getCurrentCUDAStream()), "rglru",
              "backward");
  // A fixed-shape ATen sum (no atomics): the same bits on every run.
  out.grad_softplus = partial.sum(at::IntArrayRef{0, 1}).narrow(0, 0, D);
  if (o.h0.defined() && T == 0) out.grad_h0.zero_();
  return out;
}

class RgLruFunction : public torch::autograd::Function<RgLruFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gate_x,
                               const at::Tensor& gate_a, const at::Tensor& a_param,
                               const at::Tensor& positions, const at::Tensor& h0) {
    const Operands o(x, gate_x, gate_a, a_param, positions, h0);
    ForwardOut out = RunForward(o, at::Tensor());
    ctx->save_for_backward({x, gate_x, gate_a, a_param, positions, h0});
    ctx->saved_data["carries"] = out.carries;
    ctx->mark_non_differentiable({out.h_last});
    return {out.y, out.h_last};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list s = ctx->get_saved_variables();
    const at::Tensor& a_param = s[3];
    const Operands o(s[0], s[1], s[2], a_param, s[4], s[5]);
    const at::Tensor grad_y = grads[0].defined() ? grads[0] : at::zeros_like(o.x);
    BackwardOut b = RunBackward(o, ctx->saved_data["carries"].toTensor(), grad_y);
    // softplus'(p) = sigmoid(p)
    const at::Tensor grad_a_param =
        (b.grad_softplus * at::sigmoid(a_param.to(o.acc()))).to(a_param.scalar_type());
    return {b.grad_x, b.grad_gate_x, b.grad_gate_a, grad_a_param, at::Tensor(), b.grad_h0};
  }
};

}  // namespace

RgLruScanResult RgLruScanCuda(const RgLruScanArgs& a) {
  CheckOnCuda(a.x.is_cuda(), "rglru", a.x.device().str());
  const c10::cuda::CUDAGuard guard(a.x.device());
  const at::Tensor h0 = a.h0.value_or(at::Tensor());
  const bool needs_grad =
      at::GradMode::is_enabled() &&
      (a.x.requires_grad() || a.gate_x.requires_grad() || a.gate_a.requires_grad() ||
       a.a_param.requires_grad() || (h0.defined() && h0.requires_grad()));
  if (!needs_grad) {
    const ForwardOut out = RunForward(Operands(a.x, a.gate_x, a.gate_a, a.a_param, a.positions, h0),
                                      a.gelu_gate.value_or(at::Tensor()));
    return {out.y, out.h_last};
  }
  // Training: the product with the gelu branch stays in ATen so autograd sees it. Function::apply
  // cannot take an undefined tensor, so a missing h0 is passed as zeros (the same recurrence).
  const at::Tensor h0_or_zeros =
      h0.defined() ? h0
                   : at::zeros({a.x.size(0), a.x.size(2)},
                               a.x.options().dtype(AccumulationType(a.x.scalar_type())));
  variable_list out =
      RgLruFunction::apply(a.x, a.gate_x, a.gate_a, a.a_param, a.positions, h0_or_zeros);
  at::Tensor y = out[0];
  if (a.gelu_gate.has_value()) y = y * at::gelu(*a.gelu_gate, "tanh");
  return {y, out[1]};
}

}  // namespace griffin::detail
