// Argument checks, implementation dispatch and the ATen reference of the linear scan.
#include "core/kernels/linear_scan.h"

#include <ATen/ATen.h>

namespace griffin {

void CheckLinearScanArgs(const at::Tensor& a, const at::Tensor& x,
                         const std::optional<at::Tensor>& h0) {
  TORCH_CHECK(a.dim() == 3, "linear_scan: a must be [batch, seq_len, dim], got ", a.sizes());
  TORCH_CHECK(x.sizes() == a.sizes(), "linear_scan: x ", x.sizes(), " must have the shape of a ",
              a.sizes());
  TORCH_CHECK(a.scalar_type() == x.scalar_type(), "linear_scan: a (", a.scalar_type(), ") and x (",
              x.scalar_type(), ") must have the same dtype");
  TORCH_CHECK(a.scalar_type() == at::kFloat || a.scalar_type() == at::kBFloat16,
              "linear_scan: dtype must be float32 or bfloat16, got ", a.scalar_type());
  TORCH_CHECK(a.device() == x.device(), "linear_scan: a is on ", a.device(), " but x is on ",
              x.device());
  if (h0.has_value()) {
    TORCH_CHECK(h0->dim() == 2 && h0->size(0) == a.size(0) && h0->size(1) == a.size(2),
                "linear_scan: h0 must be [batch, dim] = [", a.size(0), ", ", a.size(2), "], got ",
                h0->sizes());
    TORCH_CHECK(h0->scalar_type() == at::kFloat, "linear_scan: h0 must be float32, got ",
                h0->scalar_type());
    TORCH_CHECK(h0->device() == a.device(), "linear_scan: h0 is on ", h0->device(), " but a is on ",
                a.device());
  }
}

LinearScanResult LinearScan(const at::Tensor& a, const at::Tensor& x,
                            const std::optional<at::Tensor>& h0, OpImpl impl) {
  CheckLinearScanArgs(a, x, h0);
  switch (impl) {
    case OpImpl::kReference:
      return detail::LinearScanReference(a, x, h0);
    case OpImpl::kCuda:
#ifdef GRIFFIN_WITH_CUDA
      return detail::LinearScanCuda(a, x, h0);
#else
      TORCH_CHECK(false,
                  "linear_scan: implementation 'cuda' is not in this build "
                  "(configured with GRIFFIN_CUDA=OFF)");
#endif
  }
  TORCH_CHECK(false, "linear_scan: unknown implementation");
}

namespace detail {

// One ATen step per time index, state in float32: slow, obviously right, any device.
LinearScanResult LinearScanReference(const at::Tensor& a, const at::Tensor& x,
                                     const std::optional<at::Tensor>& h0) {
  const at::Tensor a32 = a.to(at::kFloat);
  const at::Tensor x32 = x.to(at::kFloat);
  at::Tensor h = h0.has_value() ? h0->clone() : at::zeros({a.size(0), a.size(2)}, a32.options());
  at::Tensor y = at::empty_like(x32);
  for (int64_t t = 0; t < a.size(1); ++t) {
    h = at::addcmul(x32.select(1, t), a32.select(1, t), h);
    y.select(1, t).copy_(h);
  }
  return {y.to(x.scalar_type()), h};
}

}  // namespace detail
}  // namespace griffin
