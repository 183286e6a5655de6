#include "core/model/rglru.h"

#include <ATen/ATen.h>

#include "core/kernels/rglru_scan.h"
#include "core/model/layers.h"
#include "core/model/model_state.h"

namespace griffin {

at::Tensor BlockDiagonalLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const int64_t heads = w.size(0);
  // One block is a plain linear layer (x @ w[0] + b[0]): its bias rides in the matrix product's
  // epilogue, and its gradient is a product too (Linear), not a column sum.
  if (heads == 1) return Linear(x, w[0].t(), b[0]);
  const int64_t block = w.size(1);
  std::vector<int64_t> split = x.sizes().vec();
  split.back() = heads;
  split.push_back(block);
  const at::Tensor y = at::einsum("...hi,hij->...hj", {x.reshape(split), w}) + b;
  return y.flatten(-2);
}

at::Tensor RgLru(const at::Tensor& c, const at::Tensor& positions, const RecurrentWeights& w,
                 at::Tensor& state, OpImpl impl) {
  const at::Tensor c32 = c.to(at::kFloat);
  RgLruScanArgs args;
  args.x = c32;
  args.gate_x = BlockDiagonalLinear(c32, w.input_gate_w, w.input_gate_b);
  args.gate_a = BlockDiagonalLinear(c32, w.a_gate_w, w.a_gate_b);
  args.a_param = w.a_param;
  args.positions = positions;
  args.h0 = state;
  RgLruScanResult r = RgLruScan(args, impl);
  UpdateState(state, r.h_last);
  return r.y.to(c.scalar_type());
}

}  // namespace griffin
