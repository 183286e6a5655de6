// ATen-facing wrapper of the skinny matrix product: layout, device guard, stream, launch.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/core/GradMode.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/kernels/launch_check.h"
#include "core/kernels/scan_workspace_alloc.h"
#include "core/kernels/skinny_linear.cuh"
#include "core/kernels/skinny_linear.h"

namespace griffin::detail {

static_assert(kernels::kSkinnyLinearMaxRows == kSkinnyLinearMaxRows,
              "the kernel's rows are the checks' (skinny_linear.h)");

at::Tensor SkinnyLinearCuda(const SkinnyLinearArgs& a) {
  CheckOnCuda(a.w.is_cuda(), "skinny_linear", a.w.device().str());
  TORCH_CHECK(SkinnyLinearFits(a),
              "skinny_linear[cuda]: needs float32 or bfloat16, a contiguous "
              "w and at most ",
              kSkinnyLinearMaxRows, " rows of x, got ", a.x.scalar_type(), " x ", a.x.sizes(),
              ", w ", a.w.sizes());
  TORCH_CHECK(!at::GradMode::is_enabled() || !(a.x.requires_grad() || a.w.requires_grad() ||
                                               (a.b.defined() && a.b.requires_grad())),
              "skinny_linear[cuda]: inference only (no autograd); training takes the reference");
  const c10::cuda::CUDAGuard guard(a.w.device());
  const int64_t in = a.w.size(1), out = a.w.size(0);
  const at::Tensor x = a.x.reshape({-1, in}).contiguous();
  std::vector<int64_t> shape = a.x.sizes().vec();
  shape.back() = out;
  at::Tensor y = at::empty(shape, a.w.options());
  CheckLaunch(kernels::LaunchSkinnyLinear({x.size(0), in, out, KernelScalarKind(a.w.scalar_type())},
                                          x.data_ptr(), a.w.data_ptr(),
                                          a.b.defined() ? a.b.data_ptr() : nullptr, y.data_ptr(),
                                          at::cuda::getCurrentCUDAStream()),
              "skinny_linear", c10::str(x.size(0), " x ", in, " by ", out));
  return y;
}

}  // namespace griffin::detail
