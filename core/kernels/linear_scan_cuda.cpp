// ATen-facing wrapper of the CUDA linear scan: device guard, stream, layout, workspace, launch,
// and the autograd Function that pairs the forward kernel with the backward kernel.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/kernels/launch_check.h"
#include "core/kernels/linear_scan.cuh"
#include "core/kernels/linear_scan.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The operands as the kernels take them: unit channel stride (anything else is copied once here),
// h0 in the state type, undefined when absent.
struct Operands {
  at::Tensor a, x, h0;

  Operands(const at::Tensor& a_in, const at::Tensor& x_in, const at::Tensor& h0_in)
      : a(a_in.stride(2) == 1 ? a_in : a_in.contiguous()),
        x(x_in.stride(2) == 1 ? x_in : x_in.contiguous()) {
    if (h0_in.defined()) h0 = h0_in.to(acc()).contiguous();
  }

  at::ScalarType acc() const { return AccumulationType(a.scalar_type()); }
  int64_t batch() const { return a.size(0); }
  int64_t seq_len() const { return a.size(1); }
  int64_t dim() const { return a.size(2); }

  // The forward's parameters with y and h_last left null.
  kernels::LinearScanParams View() const {
    kernels::LinearScanParams p{};
    p.a = a.data_ptr();
    p.x = x.data_ptr();
    p.h0 = h0.defined() ? h0.data_ptr() : nullptr;
    p.batch = batch();
    p.seq_len = seq_len();
    p.dim = dim();
    p.a_batch_stride = a.stride(0);
    p.a_seq_stride = a.stride(1);
    p.x_batch_stride = x.stride(0);
    p.x_seq_stride = x.stride(1);
    p.kind = KernelScalarKind(a.scalar_type());
    return p;
  }
};

struct ForwardOut {
  at::Tensor y, h_last, carries;
};

ForwardOut RunForward(const Operands& o) {
  ForwardOut out;
  out.y = at::empty(o.a.sizes(), o.x.options().memory_format(at::MemoryFormat::Contiguous));
  out.h_last = at::empty({o.batch(), o.dim()}, o.a.options().dtype(o.acc()));
  const ScanWorkspaceTensors ws =
      AllocateScanWorkspace(o.batch(), o.seq_len(), o.dim(), o.acc(), o.a.device());
  kernels::LinearScanParams p = o.View();
  p.y = out.y.data_ptr();
  p.h_last = out.h_last.data_ptr();
  p.y_batch_stride = out.y.stride(0);
  p.y_seq_stride = out.y.stride(1);
  p.workspace = ws.view();
  CheckLaunch(kernels::LaunchLinearScan(p, at::cuda::getCurrentCUDAStream()), "linear_scan",
              "scan");
  out.carries = ws.carries();
  return out;
}

struct BackwardOut {
  at::Tensor grad_a, grad_x, grad_h0;
};

// grad_h_last may be undefined (no gradient reaches the final state).
BackwardOut RunBackward(const Operands& o, const at::Tensor& carries, const at::Tensor& grad_y,
                        const at::Tensor& grad_h_last) {
  const at::Tensor g = grad_y.to(o.x.scalar_type()).contiguous();
  const at::Tensor g_last =
      grad_h_last.defined() ? grad_h_last.to(o.acc()).contiguous() : grad_h_last;
  BackwardOut out;
  out.grad_a = at::empty(o.a.sizes(), o.a.options().memory_format(at::MemoryFormat::Contiguous));
  out.grad_x = at::empty(o.x.sizes(), o.x.options().memory_format(at::MemoryFormat::Contiguous));
  if (o.seq_len() == 0) {  // no steps: h_last is h0
    out.grad_h0 = g_last.defined() ? g_last.clone()
                                   : at::zeros({o.batch(), o.dim()}, o.a.options().dtype(o.acc()));
    return out;
  }
  out.grad_h0 = at::empty({o.batch(), o.dim()}, o.a.options().dtype(o.acc()));
  const ScanWorkspaceTensors ws =
      AllocateScanWorkspace(o.batch(), o.seq_len(), o.dim(), o.acc(), o.a.device());
  kernels::LinearScanBackwardParams p{};
  p.fwd = o.View();
  p.carries = carries.data_ptr();
  p.grad_y = g.data_ptr();
  p.grad_h_last = g_last.defined() ? g_last.data_ptr() : nullptr;
  p.grad_a = out.grad_a.data_ptr();
  p.grad_x = out.grad_x.data_ptr();
  p.grad_h0 = out.grad_h0.data_ptr();
  p.workspace = ws.view();
  CheckLaunch(kernels::LaunchLinearScanBackward(p, at::cuda::getCurrentCUDAStream()), "linear_scan",
              "backward");
  return out;
}

class LinearScanFunction : public torch::autograd::Function<LinearScanFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& x,
                               const at::Tensor& h0) {
    ForwardOut out = RunForward(Operands(a, x, h0));
    ctx->save_for_backward({a, x, h0});
    ctx->saved_data["carries"] = out.carries;
    return {out.y, out.h_last};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list s = ctx->get_saved_variables();
    const Operands o(s[0], s[1], s[2]);
    const at::Tensor grad_y = grads[0].defined() ? grads[0] : at::zeros_like(o.x);
    BackwardOut b = RunBackward(o, ctx->saved_data["carries"].toTensor(), grad_y, grads[1]);
    return {b.grad_a, b.grad_x, b.grad_h0};
  }
};

}  // namespace

LinearScanResult LinearScanCuda(const at::Tensor& a, const at::Tensor& x,
                                const std::optional<at::Tensor>& h0_in) {
  CheckOnCuda(a.is_cuda(), "linear_scan", a.device().str());
  const c10::cuda::CUDAGuard guard(a.device());
  const at::Tensor h0 = h0_in.value_or(at::Tensor());
  const bool needs_grad = at::GradMode::is_enabled() && (a.requires_grad() || x.requires_grad() ||
                                                         (h0.defined() && h0.requires_grad()));
  if (!needs_grad) {
    const ForwardOut out = RunForward(Operands(a, x, h0));
    return {out.y, out.h_last};
  }
  // Function::apply cannot take an undefined tensor, so a missing h0 is passed as zeros (the
  // same recurrence).
  const at::Tensor h0_or_zeros =
      h0.defined()
          ? h0
          : at::zeros({a.size(0), a.size(2)}, a.options().dtype(AccumulationType(a.scalar_type())));
  const variable_list out = LinearScanFunction::apply(a, x, h0_or_zeros);
  return {out[0], out[1]};
}

}  // namespace griffin::detail
