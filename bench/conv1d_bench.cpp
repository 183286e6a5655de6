// Microbenchmarks of the width-4 causal Conv1D forward and backward over the size grid. Bytes
// counted: forward reads u and writes the output (2 tensors); backward reads u and dL/dout and
// writes du (3 tensors); positions (8 bytes per token) added, weights and tail ignored.
#include <ATen/ATen.h>

#include "bench_util.h"
#include "core/kernels/conv1d.h"

namespace griffin::bench {
namespace {

Conv1dArgs Inputs(const Shape& s, const at::Device& device) {
  const auto opts = at::TensorOptions(device).dtype(at::kFloat);
  return {at::randn({s.batch, s.seq_len, s.dim}, opts).to(s.dtype),
          at::arange(s.seq_len, opts.dtype(at::kLong)).expand({s.batch, s.seq_len}).contiguous(),
          at::randn({4, s.dim}, opts).to(s.dtype),
          at::randn({s.dim}, opts).to(s.dtype),
          at::randn({s.batch, 3, s.dim}, opts).to(s.dtype),
          at::arange(-3, 0, opts.dtype(at::kLong)).expand({s.batch, 3}).contiguous()};
}

double Bytes(const Shape& s, int tensors) {
  return tensors * s.Elements() * at::elementSize(s.dtype) + 8.0 * s.batch * s.seq_len;
}

}  // namespace

void RegisterConv1d() {
  const bool cuda = at::hasCUDA();
  RegisterOverShapes(
      "Conv1dForward", ShapeGrid(cuda, 2), 1 << 30, [](benchmark::State& st, const BenchCase& c) {
        const Shape& s = c.shape;
        const Conv1dArgs a = Inputs(s, c.device);
        TimeAndReport(st, c, Bytes(s, 2), [&] { benchmark::DoNotOptimize(Conv1dOp(a, c.impl)); });
      });
  RegisterOverShapes("Conv1dBackward", ShapeGrid(cuda, 4), 1 << 30,
                     [](benchmark::State& st, const BenchCase& c) {
                       const Shape& s = c.shape;
                       Conv1dArgs a = Inputs(s, c.device);
                       for (at::Tensor* t : {&a.u, &a.w, &a.b}) t->set_requires_grad(true);
                       const at::Tensor y = Conv1dOp(a, c.impl);
                       const at::Tensor grad = at::randn_like(y);
                       TimeAndReport(st, c, Bytes(s, 3), [&] {
                         for (at::Tensor* t : {&a.u, &a.w, &a.b}) t->mutable_grad() = at::Tensor();
                         y.backward(grad, /*retain_graph=*/true);
                       });
                     });
}

}  // namespace griffin::bench
