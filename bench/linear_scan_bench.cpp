// Microbenchmark of the linear scan (h_t = a_t h_{t-1} + x_t) over the size grid: achieved GB/s,
// fraction of the copy ceiling, speedup over the ATen reference measured in the same run.
#include <ATen/ATen.h>

#include "bench_util.h"
#include "core/kernels/linear_scan.h"

namespace griffin::bench {

void RegisterLinearScan() {
  const bool cuda = at::hasCUDA();
  RegisterOverShapes(
      "LinearScan", ShapeGrid(cuda, 3), 16384, [](benchmark::State& st, const BenchCase& c) {
        const Shape& s = c.shape;
        // Decays in (0.5, 1) and Gaussian inputs: never all-zero, as real gates produce.
        const auto opts = at::TensorOptions(c.device).dtype(at::kFloat);
        const at::Tensor a = (0.5 + 0.5 * at::rand({s.batch, s.seq_len, s.dim}, opts)).to(s.dtype);
        const at::Tensor x = at::randn({s.batch, s.seq_len, s.dim}, opts).to(s.dtype);
        // Fewest bytes the scan must move: read a and x, write y (states are negligible).
        const double bytes = 3.0 * s.Elements() * at::elementSize(s.dtype);
        TimeAndReport(st, c, bytes,
                      [&] { benchmark::DoNotOptimize(LinearScan(a, x, std::nullopt, c.impl).y); });
      });
}

}  // namespace griffin::bench
