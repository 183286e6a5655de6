// Argument checks, implementation dispatch and the ATen reference of the RG-LRU op.
#include "core/kernels/rglru_scan.h"

#include <ATen/ATen.h>

#include "core/kernels/linear_scan.h"

namespace griffin {
namespace {

// sqrt(u) with the gradient of the official implementation's SqrtBoundDerivative: 0.5 / sqrt(u)
// with u floored at 1 / (4 * 1000^2). The plain sqrt when no gradient is wanted.
at::Tensor SqrtBoundedGrad(const at::Tensor& u) {
  const at::Tensor value = at::sqrt(u);
  if (!u.requires_grad()) return value;
  const at::Tensor slope = (0.5 / at::sqrt(at::clamp_min(u, 1.0 / (4.0 * 1000.0 * 1000.0))));
  return value.detach() + (u - u.detach()) * slope.detach();
}

}  // namespace

void CheckRgLruScanArgs(const RgLruScanArgs& a) {
  TORCH_CHECK(a.x.dim() == 3, "rglru: x must be [batch, seq_len, dim], got ", a.x.sizes());
  const at::ScalarType t = a.x.scalar_type();
  TORCH_CHECK(t == at::kFloat || t == at::kBFloat16 || t == at::kDouble,
              "rglru: x must be float32, bfloat16 or float64, got ", t);
  auto same = [&](const at::Tensor& v, const char* name) {
    TORCH_CHECK(v.sizes() == a.x.sizes(), "rglru: ", name, " ", v.sizes(),
                " must have the shape of x ", a.x.sizes());
    TORCH_CHECK(v.scalar_type() == t, "rglru: ", name, " (", v.scalar_type(),
                ") must have x's dtype ", t);
    TORCH_CHECK(v.device() == a.x.device(), "rglru: ", name, " is on ", v.device(), " but x is on ",
                a.x.device());
  };
  same(a.gate_x, "gate_x");
  same(a.gate_a, "gate_a");
  if (a.gelu_gate.has_value()) same(*a.gelu_gate, "gelu_gate");
  TORCH_CHECK(a.a_param.dim() == 1 && a.a_param.size(0) == a.x.size(2), "rglru: a_param must be [",
              a.x.size(2), "], got ", a.a_param.sizes());
  TORCH_CHECK(a.a_param.device() == a.x.device(), "rglru: a_param is on ", a.a_param.device(),
              " but x is on ", a.x.device());
  TORCH_CHECK(a.positions.dim() == 2 && a.positions.size(0) == a.x.size(0) &&
                  a.positions.size(1) == a.x.size(1),
              "rglru: positions must be [batch, seq_len] = [", a.x.size(0), ", ", a.x.size(1),
              "], got ", a.positions.sizes());
  TORCH_CHECK(a.positions.scalar_type() == at::kLong, "rglru: positions must be int64, got ",
              a.positions.scalar_type());
  TORCH_CHECK(a.positions.device() == a.x.device(), "rglru: positions are on ",
              a.positions.device(), " but x is on ", a.x.device());
  if (a.h0.has_value()) {
    const at::ScalarType state = t == at::kDouble ? at::kDouble : at::kFloat;
    TORCH_CHECK(a.h0->dim() == 2 && a.h0->size(0) == a.x.size(0) && a.h0->size(1) == a.x.size(2),
                "rglru: h0 must be [batch, dim] = [", a.x.size(0), ", ", a.x.size(2), "], got ",
                a.h0->sizes());
    TORCH_CHECK(a.h0->scalar_type() == state, "rglru: h0 must be ",
                state == at::kDouble ? "float64" : "float32", ", got ", a.h0->scalar_type());
    TORCH_CHECK(a.h0->device() == a.x.device(), "rglru: h0 is on ", a.h0->device(), " but x is on ",
                a.x.device());
  }
}

RgLruScanResult RgLruScan(const RgLruScanArgs& args, OpImpl impl) {
  CheckRgLruScanArgs(args);
  return CallImpl(impl, "rglru", &detail::RgLruScanReference,
                  GRIFFIN_CUDA_OP(detail::RgLruScanCuda), args);
}

namespace detail {

RgLruScanResult RgLruScanReference(const RgLruScanArgs& args) {
  const at::ScalarType acc = args.x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor x = args.x.to(acc);
  const at::Tensor i = at::sigmoid(args.gate_x.to(acc));
  const at::Tensor r = at::sigmoid(args.gate_a.to(acc));
  const at::Tensor log_a = -8.0 * r * at::softplus(args.a_param.to(acc));
  const at::Tensor a = at::exp(log_a);
  // a^2 as exp(2 log a), as the references compute it (not a * a).
  const at::Tensor a_square = at::exp(2.0 * log_a);
  const at::Tensor reset = args.positions.eq(0).unsqueeze(-1);
  const at::Tensor multiplier = at::where(reset, at::ones_like(a), SqrtBoundedGrad(1.0 - a_square));
  const at::Tensor decay = at::where(reset, at::zeros_like(a), a);
  LinearScanResult s = LinearScan(decay, x * i * multiplier, args.h0, OpImpl::kReference);
  at::Tensor y = s.y;
  if (args.gelu_gate.has_value()) y = y * at::gelu(args.gelu_gate->to(acc), "tanh");
  return {y.to(args.x.scalar_type()), s.h_last.detach()};
}

}  // namespace detail
}  // namespace griffin
