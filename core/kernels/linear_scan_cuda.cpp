// ATen-facing wrapper of the CUDA linear scan: device guard, stream, layout, workspace, launch.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/kernels/launch_check.h"
#include "core/kernels/linear_scan.cuh"
#include "core/kernels/linear_scan.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {

LinearScanResult LinearScanCuda(const at::Tensor& a_in, const at::Tensor& x_in,
                                const std::optional<at::Tensor>& h0_in) {
  CheckOnCuda(a_in.is_cuda(), "linear_scan", a_in.device().str());
  const c10::cuda::CUDAGuard guard(a_in.device());
  const at::ScalarType acc = AccumulationType(a_in.scalar_type());
  // The kernel needs unit channel stride; anything else is copied once here.
  const at::Tensor a = a_in.stride(2) == 1 ? a_in : a_in.contiguous();
  const at::Tensor x = x_in.stride(2) == 1 ? x_in : x_in.contiguous();
  std::optional<at::Tensor> h0;
  if (h0_in.has_value()) h0 = h0_in->to(acc).contiguous();

  at::Tensor y = at::empty(a.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  at::Tensor h_last = at::empty({a.size(0), a.size(2)}, a.options().dtype(acc));
  const ScanWorkspaceTensors ws =
      AllocateScanWorkspace(a.size(0), a.size(1), a.size(2), acc, a.device());

  kernels::LinearScanParams p{};
  p.a = a.data_ptr();
  p.x = x.data_ptr();
  p.y = y.data_ptr();
  p.h0 = h0.has_value() ? h0->data_ptr() : nullptr;
  p.h_last = h_last.data_ptr();
  p.batch = a.size(0);
  p.seq_len = a.size(1);
  p.dim = a.size(2);
  p.a_batch_stride = a.stride(0);
  p.a_seq_stride = a.stride(1);
  p.x_batch_stride = x.stride(0);
  p.x_seq_stride = x.stride(1);
  p.y_batch_stride = y.stride(0);
  p.y_seq_stride = y.stride(1);
  p.kind = KernelScalarKind(a.scalar_type());
  p.workspace = ws.view();
  CheckLaunch(kernels::LaunchLinearScan(p, at::cuda::getCurrentCUDAStream()), "linear_scan",
              "scan");
  return {y, h_last};
}

}  // namespace griffin::detail
