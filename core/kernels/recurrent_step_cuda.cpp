// ATen-facing wrapper of the fused recurrent decode step: device guard, stream, tickets, launch.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/kernels/launch_check.h"
#include "core/kernels/recurrent_step.cuh"
#include "core/kernels/recurrent_step.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {

at::Tensor RecurrentStepCuda(const RecurrentStepTensors& t) {
  CheckRecurrentStepTensors(t);
  CheckOnCuda(t.u.is_cuda(), "recurrent step", t.u.device().str());
  const c10::cuda::CUDAGuard guard(t.u.device());
  const at::Tensor u = t.u.contiguous(), y = t.y_branch.contiguous();
  const at::Tensor positions = t.positions.contiguous();
  const at::Tensor conv_w = t.conv_w.contiguous(), conv_b = t.conv_b.contiguous();
  const at::Tensor gxw = t.gate_x_w.contiguous(), gxb = t.gate_x_b.contiguous();
  const at::Tensor gaw = t.gate_a_w.contiguous(), gab = t.gate_a_b.contiguous();
  const at::Tensor a_param = t.a_param.contiguous();
  at::Tensor out = at::empty_like(u);
  const int64_t B = u.size(0), H = gxw.size(0);
  // Zeroed here (a memset node when captured); every launch leaves them zero again.
  const at::Tensor tickets =
      at::zeros({kernels::RecurrentStepTickets(B, H)}, u.options().dtype(at::kInt));
  kernels::RecurrentStepParams p{};
  p.u = u.data_ptr();
  p.y_branch = y.data_ptr();
  p.positions = positions.data_ptr<int64_t>();
  p.conv_w = conv_w.data_ptr();
  p.conv_b = conv_b.data_ptr();
  p.tail = t.tail.numel() > 0 ? t.tail.data_ptr() : nullptr;
  p.tail_pos = t.tail_pos.numel() > 0 ? t.tail_pos.data_ptr<int64_t>() : nullptr;
  p.gate_x_w = gxw.data_ptr<float>();
  p.gate_x_b = gxb.data_ptr<float>();
  p.gate_a_w = gaw.data_ptr<float>();
  p.gate_a_b = gab.data_ptr<float>();
  p.a_param = a_param.data_ptr<float>();
  p.h = t.h.data_ptr<float>();
  p.out = out.data_ptr();
  p.tickets = tickets.data_ptr<int>();
  p.batch = B;
  p.dim = u.size(2);
  p.heads = H;
  p.width = conv_w.size(0);
  p.kind = KernelScalarKind(u.scalar_type());
  CheckLaunch(kernels::LaunchRecurrentStep(p, at::cuda::getCurrentCUDAStream()), "recurrent step",
              c10::str("step (batch ", B, ", dim ", p.dim, ", heads ", H, ")"));
  return out;
}

}  // namespace griffin::detail
