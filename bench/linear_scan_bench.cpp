// Microbenchmarks of the linear scan (h_t = a_t h_{t-1} + x_t) and its backward over the size
// grid: achieved GB/s, fraction of the copy ceiling, speedup over the ATen reference measured in
// the same run. Bytes counted are the fewest each must move: the forward reads a and x and writes
// y (3 tensors); the backward reads a, x and dL/dy and writes dL/da and dL/dx (5 tensors; the
// states are replayed, not read).
#include <ATen/ATen.h>

#include "bench_util.h"
#include "core/kernels/linear_scan.h"

namespace griffin::bench {

namespace {

// Decays in (0.5, 1) and Gaussian inputs: never all-zero, as real gates produce.
std::pair<at::Tensor, at::Tensor> Inputs(const Shape& s, const at::Device& device) {
  const auto opts = at::TensorOptions(device).dtype(at::kFloat);
  return {(0.5 + 0.5 * at::rand({s.batch, s.seq_len, s.dim}, opts)).to(s.dtype),
          at::randn({s.batch, s.seq_len, s.dim}, opts).to(s.dtype)};
}

double Bytes(const Shape& s, int tensors) {
  return static_cast<double>(tensors) * s.Elements() * at::elementSize(s.dtype);
}

}  // namespace

void RegisterLinearScan() {
  const bool cuda = at::hasCUDA();
  RegisterOverShapes(
      "LinearScan", ShapeGrid(cuda, 3), 16384, [](benchmark::State& st, const BenchCase& c) {
        const auto [a, x] = Inputs(c.shape, c.device);
        TimeAndReport(st, c, Bytes(c.shape, 3),
                      [&] { benchmark::DoNotOptimize(LinearScan(a, x, std::nullopt, c.impl).y); });
      });
  // The reference backward is autograd over T ATen steps: only up to 2048 tokens. Live: a, x, y,
  // dL/dy, both gradients and the reference's per-step graph.
  RegisterOverShapes("LinearScanBackward", ShapeGrid(cuda, 6), 2048,
                     [](benchmark::State& st, const BenchCase& c) {
                       auto [a, x] = Inputs(c.shape, c.device);
                       a.set_requires_grad(true);
                       x.set_requires_grad(true);
                       const at::Tensor y = LinearScan(a, x, std::nullopt, c.impl).y;
                       const at::Tensor grad = at::randn_like(y);
                       TimeAndReport(st, c, Bytes(c.shape, 5), [&] {
                         a.mutable_grad() = at::Tensor();
                         x.mutable_grad() = at::Tensor();
                         y.backward(grad, /*retain_graph=*/true);
                       });
                     });
}

}  // namespace griffin::bench
