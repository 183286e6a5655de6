// Microbenchmark of the linear scan (h_t = a_t h_{t-1} + x_t): every built implementation over a
// size grid, reporting achieved GB/s, the fraction of the copy ceiling and the speedup over the
// ATen reference measured in the same run.
//   griffin_microbench --benchmark_out=scan.json --benchmark_out_format=json
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "bench_util.h"
#include "core/kernels/linear_scan.h"

namespace griffin::bench {
namespace {

struct ScanShape {
  int64_t batch, seq_len, dim;
  at::ScalarType dtype;
  std::string Key() const {
    return fmt::format("B{}_T{}_D{}_{}", batch, seq_len, dim, dtype == at::kFloat ? "f32" : "bf16");
  }
  // Fewest bytes the scan must move: read a and x, write y (states are negligible).
  double Bytes() const {
    return 3.0 * static_cast<double>(batch * seq_len * dim) * at::elementSize(dtype);
  }
};

void RunScan(benchmark::State& state, ScanShape shape, OpImpl impl, at::Device device) {
  // Decays in (0.5, 1) and Gaussian inputs: never all-zero, as real gates produce.
  const auto opts = at::TensorOptions(device).dtype(shape.dtype);
  const at::Tensor a =
      (0.5 + 0.5 * at::rand({shape.batch, shape.seq_len, shape.dim}, opts.dtype(at::kFloat)))
          .to(shape.dtype);
  const at::Tensor x = at::randn({shape.batch, shape.seq_len, shape.dim}, opts);
  auto call = [&] { benchmark::DoNotOptimize(LinearScan(a, x, std::nullopt, impl).y); };
  call();  // warm-up: module load, allocator growth
  std::vector<double> samples;
  for (auto _ : state) {
    const double s = TimeOnce(device, call);
    state.SetIterationTime(s);
    samples.push_back(s);
  }
  std::sort(samples.begin(), samples.end());
  const double median = samples[samples.size() / 2];
  if (impl == OpImpl::kReference) RecordReferenceSeconds(shape.Key(), median);
  state.counters["median_us"] = median * 1e6;
  state.counters["GB/s"] = shape.Bytes() / median * 1e-9;
  state.counters["ceiling_frac"] =
      device.is_cuda() ? shape.Bytes() / median * 1e-9 / kCopyCeilingGBps : 0.0;
  const double ref = ReferenceSeconds(shape.Key());
  state.counters["speedup_vs_ref"] = ref > 0.0 ? ref / median : 0.0;
  state.SetLabel(fmt::format("{} on {}", OpImplName(impl), device.str()));
}

void RegisterAll() {
  const bool cuda = at::hasCUDA();
  const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  std::vector<ScanShape> shapes;
  const std::vector<int64_t> batches =
      cuda ? std::vector<int64_t>{1, 8, 64} : std::vector<int64_t>{1};
  const std::vector<int64_t> lengths =
      cuda ? std::vector<int64_t>{1, 2048, 16384, 131072} : std::vector<int64_t>{2048};
  for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    for (int64_t b : batches) {
      for (int64_t t : lengths) {
        for (int64_t d : {2560, 4096}) {
          // Keep each tensor under 2 GiB so three fit comfortably next to the flush buffer.
          if (b * t * d * at::elementSize(dtype) > (int64_t{2} << 30)) continue;
          shapes.push_back({b, t, d, dtype});
        }
      }
    }
  }
  for (OpImpl impl : BuiltOpImpls()) {
    if (impl == OpImpl::kCuda && !cuda) continue;
    for (const ScanShape& s : shapes) {
      // The reference issues one ATen step per token; past 16k tokens it only burns lease time.
      if (impl == OpImpl::kReference && s.seq_len > 16384) continue;
      const int iterations = impl == OpImpl::kReference ? 3 : 20;
      benchmark::RegisterBenchmark(
          fmt::format("LinearScan/{}/{}", OpImplName(impl), s.Key()).c_str(),
          [s, impl, device](benchmark::State& st) { RunScan(st, s, impl, device); })
          ->UseManualTime()
          ->Iterations(iterations)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace griffin::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  griffin::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
