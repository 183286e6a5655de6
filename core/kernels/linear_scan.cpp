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
  TORCH_CHECK(a.scalar_type() == at::kFloat || a.scalar_type() == at::kBFloat16 ||
                  a.scalar_type() == at::kDouble,
              "linear_scan: dtype must be float32, bfloat16 or float64, got ", a.scalar_type());
  TORCH_CHECK(a.device() == x.device(), "linear_scan: a is on ", a.device(), " but x is on ",
              x.device());
  if (h0.has_value()) {
    TORCH_CHECK(h0->dim() == 2 && h0->size(0) == a.size(0) && h0->size(1) == a.size(2),
                "linear_scan: h0 must be [batch, dim] = [", a.size(0), ", ", a.size(2), "], got ",
                h0->sizes());
    const at::ScalarType state = a.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    TORCH_CHECK(h0->scalar_type() == state, "linear_scan: h0 must be ",
                state == at::kDouble ? "float64" : "float32", ", got ", h0->scalar_type());
    TORCH_CHECK(h0->device() == a.device(), "linear_scan: h0 is on ", h0->device(), " but a is on ",
                a.device());
  }
}

LinearScanResult LinearScan(const at::Tensor& a, const at::Tensor& x,
                            const std::optional<at::Tensor>& h0, OpImpl impl) {
  CheckLinearScanArgs(a, x, h0);
  return CallImpl(impl, "linear_scan", &detail::LinearScanReference,
                  GRIFFIN_CUDA_OP(detail::LinearScanCuda), a, x, h0);
}

namespace detail {

// One ATen step per time index, state in float32 (float64 for float64 input): slow, obviously
// right, any device, differentiable.
LinearScanResult LinearScanReference(const at::Tensor& a, const at::Tensor& x,
                                     const std::optional<at::Tensor>& h0) {
  const at::ScalarType acc = a.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor a32 = a.to(acc);
  const at::Tensor x32 = x.to(acc);
  at::Tensor h = h0.has_value() ? h0->clone() : at::zeros({a.size(0), a.size(2)}, a32.options());
  // unbind and stack rather than select and copy into slices: autograd through T selects or
  // slice copies would materialise a whole-sequence gradient at every step (quadratic in T).
  const std::vector<at::Tensor> as = a32.unbind(1), xs = x32.unbind(1);
  std::vector<at::Tensor> steps;
  steps.reserve(as.size());
  for (size_t t = 0; t < as.size(); ++t) {
    h = at::addcmul(xs[t], as[t], h);
    steps.push_back(h);
  }
  const at::Tensor y = steps.empty() ? at::empty_like(x32) : at::stack(steps, 1);
  return {y.to(x.scalar_type()), h};
}

}  // namespace detail
}  // namespace griffin
