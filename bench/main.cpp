// griffin_microbench: every kernel's microbenchmarks in one binary.
//   griffin_microbench --benchmark_out=kernels.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

namespace griffin::bench {
void RegisterLinearScan();
void RegisterRgLru();
void RegisterConv1d();
void RegisterRecurrentStep();
}  // namespace griffin::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  griffin::bench::RegisterLinearScan();
  griffin::bench::RegisterRgLru();
  griffin::bench::RegisterConv1d();
  griffin::bench::RegisterRecurrentStep();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
