// Where a number came from: build, code version and machine. Printed by `griffin --version`
// and written into every results file.
#pragma once

#include <string>
#include <vector>

namespace griffin {

struct GpuInfo {
  int index = 0;
  std::string name;
  int sm_major = 0, sm_minor = 0;
  int multiprocessors = 0;
  double memory_gib = 0.0;
  double l2_mib = 0.0;
};

struct Provenance {
  std::string version;     // project version
  std::string git_commit;  // full hash, "unknown" outside a git checkout
  bool git_dirty = true;   // tracked files differed from the commit at build time
  std::string torch_version;
  std::string compiler;
  std::string build_type;
  bool cuda_built = false;   // this build carries the project's CUDA kernels
  std::string cuda_runtime;  // CUDA runtime the kernels were built against, "" if none
  bool cuda_available = false;
  std::string driver;  // driver version as reported by the runtime, "" if none
  std::vector<GpuInfo> gpus;
};

// Collects the provenance of this process. Never throws: missing pieces read "unknown".
Provenance CollectProvenance();

// Multi-line, human-readable summary (what `griffin --version` prints).
std::string FormatProvenance(const Provenance& p);

// GPU details come from the CUDA runtime; the CPU-only build reports none.
namespace detail {
void FillCudaProvenance(Provenance& p);
}

}  // namespace griffin
