#include "bench_util.h"

#include <chrono>
#include <map>
#include <mutex>

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

void RecordReferenceSeconds(const std::string& shape_key, double seconds) {
  ReferenceTable()[shape_key] = seconds;
}

double ReferenceSeconds(const std::string& shape_key) {
  const auto it = ReferenceTable().find(shape_key);
  return it == ReferenceTable().end() ? 0.0 : it->second;
}

}  // namespace griffin::bench
