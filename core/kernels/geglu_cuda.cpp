// ATen-facing wrapper of the GeGLU kernel: layout, device guard, stream, launch.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/core/GradMode.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/kernels/geglu.cuh"
#include "core/kernels/geglu.h"
#include "core/kernels/launch_check.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {

at::Tensor GegluCuda(const GegluArgs& a) {
  CheckOnCuda(a.gate_up.is_cuda(), "geglu", a.gate_up.device().str());
  TORCH_CHECK(!at::GradMode::is_enabled() || !a.gate_up.requires_grad(),
              "geglu[cuda]: inference only (no autograd); training takes the reference");
  const at::ScalarType dt = a.gate_up.scalar_type();
  TORCH_CHECK(dt == at::kFloat || dt == at::kBFloat16, "geglu[cuda]: float32 or bfloat16, got ",
              dt);
  const c10::cuda::CUDAGuard guard(a.gate_up.device());
  const int64_t width = a.gate_up.size(-1) / 2;
  const at::Tensor gate_up = a.gate_up.reshape({-1, 2 * width}).contiguous();
  std::vector<int64_t> shape = a.gate_up.sizes().vec();
  shape.back() = width;
  at::Tensor out = at::empty(shape, gate_up.options());
  CheckLaunch(
      kernels::LaunchGeglu({gate_up.size(0), width, KernelScalarKind(dt)}, gate_up.data_ptr(),
                           out.data_ptr(), at::cuda::getCurrentCUDAStream()),
      "geglu", c10::str("product (", gate_up.size(0), " rows of ", width, ")"));
  return out;
}

}  // namespace griffin::detail
