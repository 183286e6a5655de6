#include "core/model/rglru.h"

#include <ATen/ATen.h>

#include "core/kernels/linear_scan.h"

namespace griffin {

at::Tensor BlockDiagonalLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const int64_t heads = w.size(0);
  const int64_t block = w.size(1);
  std::vector<int64_t> split = x.sizes().vec();
  split.back() = heads;
  split.push_back(block);
  const at::Tensor y = at::einsum("...hi,hij->...hj", {x.reshape(split), w}) + b;
  return y.flatten(-2);
}

at::Tensor RgLru(const at::Tensor& c, const at::Tensor& positions, const RecurrentWeights& w,
                 at::Tensor& state, OpImpl scan_impl) {
  const at::Tensor c32 = c.to(at::kFloat);
  const at::Tensor gate_x = at::sigmoid(BlockDiagonalLinear(c32, w.input_gate_w, w.input_gate_b));
  const at::Tensor gate_a = at::sigmoid(BlockDiagonalLinear(c32, w.a_gate_w, w.a_gate_b));
  const at::Tensor log_a = -8.0 * gate_a * at::softplus(w.a_param);
  // a^2 as exp(2 log a), as the references compute it (not a * a).
  const at::Tensor a = at::exp(log_a);
  const at::Tensor a_square = at::exp(2.0 * log_a);
  const at::Tensor reset = positions.eq(0).unsqueeze(-1);
  const at::Tensor multiplier = at::where(reset, at::ones_like(a), at::sqrt(1.0 - a_square));
  const at::Tensor x = c32 * gate_x * multiplier;
  const at::Tensor decay = at::where(reset, at::zeros_like(a), a);
  LinearScanResult r = LinearScan(decay, x, state, scan_impl);
  state = r.h_last;
  return r.y.to(c.scalar_type());
}

}  // namespace griffin
