// Microbenchmarks of the fused RG-LRU forward and backward over the size grid. Bytes counted are
// the fewest each must move: forward reads x and both gate inputs and writes y (4 tensors);
// backward reads x, both gate inputs and dL/dy and writes three gradients (7 tensors); positions
// (8 bytes per token) are added, per-channel vectors ignored.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "bench_util.h"
#include "core/kernels/rglru_scan.h"

namespace griffin::bench {
namespace {

RgLruScanArgs Inputs(const Shape& s, const at::Device& device) {
  const auto opts = at::TensorOptions(device).dtype(at::kFloat);
  RgLruScanArgs a;
  a.x = at::randn({s.batch, s.seq_len, s.dim}, opts).to(s.dtype);
  a.gate_x = at::randn({s.batch, s.seq_len, s.dim}, opts).to(s.dtype);
  a.gate_a = at::randn({s.batch, s.seq_len, s.dim}, opts).to(s.dtype);
  // softplus(a_param) = -log(a) with a in [0.9, 0.999], as the official initialisation.
  a.a_param = at::log(at::exp(-at::log(0.9 + 0.099 * at::rand({s.dim}, opts))) - 1.0);
  a.positions = at::arange(s.seq_len, opts.dtype(at::kLong)).expand({s.batch, s.seq_len});
  a.positions = a.positions.contiguous();
  return a;
}

double Bytes(const Shape& s, int tensors) {
  return tensors * s.Elements() * at::elementSize(s.dtype) + 8.0 * s.batch * s.seq_len;
}

}  // namespace

void RegisterRgLru() {
  const bool cuda = at::hasCUDA();
  RegisterOverShapes("RgLruForward", ShapeGrid(cuda, 4), 16384,
                     [](benchmark::State& st, const BenchCase& c) {
                       const Shape& s = c.shape;
                       const RgLruScanArgs a = Inputs(s, c.device);
                       TimeAndReport(st, c, Bytes(s, 4),
                                     [&] { benchmark::DoNotOptimize(RgLruScan(a, c.impl).y); });
                     });
  // The reference backward is autograd over T ATen steps: only up to 2048 tokens.
  RegisterOverShapes("RgLruBackward", ShapeGrid(cuda, 8), 2048,
                     [](benchmark::State& st, const BenchCase& c) {
                       const Shape& s = c.shape;
                       RgLruScanArgs a = Inputs(s, c.device);
                       for (at::Tensor* t : {&a.x, &a.gate_x, &a.gate_a})
                         t->set_requires_grad(true);
                       const at::Tensor y = RgLruScan(a, c.impl).y;
                       const at::Tensor grad = at::randn_like(y);
                       TimeAndReport(st, c, Bytes(s, 7), [&] {
                         for (at::Tensor* t : {&a.x, &a.gate_x, &a.gate_a})
                           t->mutable_grad() = at::Tensor();
                         y.backward(grad, /*retain_graph=*/true);
                       });
                     });
}

}  // namespace griffin::bench
