// griffin_microbench: every kernel's microbenchmarks in one binary.
//   griffin_microbench --benchmark_out=kernels.json --benchmark_out_format=json
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "core/runtime/provenance.h"

namespace griffin::bench {

// Where the numbers came from, in the JSON's "context" as the HDF5 files carry it: the commit, the
// dirty flag, the GPU and the driver.
void AddProvenanceContext() {
  const Provenance p = CollectProvenance();
  benchmark::AddCustomContext("git_commit", p.git_commit);
  benchmark::AddCustomContext("git_dirty", p.git_dirty ? "true" : "false");
  benchmark::AddCustomContext("torch", p.torch_version);
  benchmark::AddCustomContext("cuda_runtime", p.cuda_runtime.empty() ? "none" : p.cuda_runtime);
  benchmark::AddCustomContext("driver", p.driver.empty() ? "none" : p.driver);
  const std::string gpu =
      p.gpus.empty() ? "none"
                     : fmt::format("{} (sm_{}{}, {} SMs)", p.gpus[0].name, p.gpus[0].sm_major,
                                   p.gpus[0].sm_minor, p.gpus[0].multiprocessors);
  benchmark::AddCustomContext("gpu", gpu);
}

void RegisterLinearScan();
void RegisterRgLru();
void RegisterConv1d();
void RegisterRecurrentStep();
void RegisterNormAndLoss();
}  // namespace griffin::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  griffin::bench::AddProvenanceContext();
  griffin::bench::RegisterLinearScan();
  griffin::bench::RegisterRgLru();
  griffin::bench::RegisterConv1d();
  griffin::bench::RegisterRecurrentStep();
  griffin::bench::RegisterNormAndLoss();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
