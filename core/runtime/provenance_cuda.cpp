// GPU part of the provenance, through the CUDA runtime directly (no ATen needed).
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "core/runtime/provenance.h"

namespace griffin::detail {

namespace {
std::string VersionString(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }
}  // namespace

void FillCudaProvenance(Provenance& p) {
  p.cuda_built = true;
  int runtime = 0;
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess) p.cuda_runtime = VersionString(runtime);
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0) {
    p.driver = VersionString(driver);
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    cudaGetLastError();  // clear the sticky "no device" error for later callers
    return;
  }
  p.cuda_available = true;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    GpuInfo g;
    g.index = i;
    g.name = prop.name;
    g.sm_major = prop.major;
    g.sm_minor = prop.minor;
    g.multiprocessors = prop.multiProcessorCount;
    g.memory_gib = static_cast<double>(prop.totalGlobalMem) / (1ull << 30);
    g.l2_mib = static_cast<double>(prop.l2CacheSize) / (1ull << 20);
    p.gpus.push_back(g);
  }
}

}  // namespace griffin::detail
