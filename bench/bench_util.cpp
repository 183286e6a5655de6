#include "bench_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#ifdef GRIFFIN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <cuda_runtime_api.h>
#endif

namespace griffin::bench {
namespace {
std::map<std::string, double>& ReferenceTable() {
  static std::map<std::string, double> table;
  return table;
}
}  // namespace

std::string Shape::Key() const {
  return fmt::format("B{}_T{}_D{}_{}", batch, seq_len, dim, dtype == at::kFloat ? "f32" : "bf16");
}

std::vector<Shape> ShapeGrid(bool cuda, int live_tensors) {
  std::vector<Shape> shapes;
  const std::vector<int64_t> batches =
      cuda ? std::vector<int64_t>{1, 8, 64} : std::vector<int64_t>{1};
  const std::vector<int64_t> lengths =
      cuda ? std::vector<int64_t>{1, 2048, 16384, 131072} : std::vector<int64_t>{2048};
  // Each tensor at most 2 GiB and all of them at most 24 GiB: the H200 holds 139 GiB, and the
  // backward's 8 tensors at 8 x 16384 x 2560 fp32 (1.3 GB each) are a shape the peers are timed at.
  const int64_t per_tensor = int64_t{2} << 30, all = int64_t{24} << 30;
  for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    for (int64_t b : batches) {
      for (int64_t t : lengths) {
        for (int64_t d : {2560, 4096}) {
          const int64_t bytes = b * t * d * static_cast<int64_t>(at::elementSize(dtype));
          if (bytes > per_tensor || bytes * live_tensors > all) continue;
          shapes.push_back({b, t, d, dtype});
        }
      }
    }
  }
  return shapes;
}

double TimeOnce(const at::Device& device, const std::function<void()>& fn) {
#ifdef GRIFFIN_WITH_CUDA
  if (device.is_cuda()) {
    // Twice the L2 size, written with memset, evicts whatever the previous repeat left there.
    // Leaked on purpose: freeing device memory from a static destructor races CUDA's teardown.
    static const at::Tensor* flush = [&] {
      const int l2 = at::cuda::getCurrentDeviceProperties()->l2CacheSize;
      return new at::Tensor(
          at::empty({2 * static_cast<int64_t>(l2)}, at::TensorOptions(device).dtype(at::kByte)));
    }();
    const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
    cudaMemsetAsync(flush->data_ptr(), 0, flush->numel(), stream);
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    cudaEventRecord(start, stream);
    fn();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ms * 1e-3;
  }
#endif
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void TimeAndReport(benchmark::State& state, const BenchCase& c, double bytes,
                   const std::function<void()>& call) {
  call();  // warm-up: module load, allocator growth
  std::vector<double> samples;
  for (auto _ : state) {
    const double s = TimeOnce(c.device, call);
    state.SetIterationTime(s);
    samples.push_back(s);
  }
  std::sort(samples.begin(), samples.end());
  const double median = samples[samples.size() / 2];
  if (c.impl == OpImpl::kReference) ReferenceTable()[c.ReferenceKey()] = median;
  state.counters["median_us"] = median * 1e6;
  state.counters["GB/s"] = bytes / median * 1e-9;
  state.counters["ceiling_frac"] =
      c.device.is_cuda() ? bytes / median * 1e-9 / kCopyCeilingGBps : 0;
  const auto ref = ReferenceTable().find(c.ReferenceKey());
  if (c.impl != OpImpl::kReference && ref != ReferenceTable().end()) {
    state.counters["speedup_vs_ref"] = ref->second / median;
  }
  state.SetLabel(fmt::format("{} on {}", OpImplName(c.impl), c.device.str()));
}

void RegisterOverShapes(const std::string& name, const std::vector<Shape>& shapes,
                        int64_t reference_max_seq_len, const BenchBody& run) {
  const bool cuda = at::hasCUDA();
  const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  for (OpImpl impl : BuiltOpImpls()) {
    if (impl == OpImpl::kCuda && !cuda) continue;
    for (const Shape& s : shapes) {
      if (impl == OpImpl::kReference && s.seq_len > reference_max_seq_len) continue;
      const BenchCase c{name, s, impl, device};
      benchmark::RegisterBenchmark(fmt::format("{}/{}/{}", name, OpImplName(impl), s.Key()).c_str(),
                                   [run, c](benchmark::State& st) { run(st, c); })
          ->UseManualTime()
          ->Iterations(impl == OpImpl::kReference ? 3 : 20)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace griffin::bench
