#include "core/runtime/provenance.h"

#include <fmt/format.h>
#include <torch/version.h>

#include "core/runtime/build_config.h"

namespace griffin {
namespace build_info {
extern const char* const kGitCommit;
extern const bool kGitDirty;
}  // namespace build_info

namespace {
std::string CompilerString() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}
}  // namespace

Provenance CollectProvenance() {
  Provenance p;
  p.version = GRIFFIN_VERSION_STRING;
  p.git_commit = build_info::kGitCommit;
  p.git_dirty = build_info::kGitDirty;
  p.torch_version = TORCH_VERSION;
  p.compiler = CompilerString();
  p.build_type = GRIFFIN_BUILD_TYPE;
  detail::FillCudaProvenance(p);
  return p;
}

std::string FormatProvenance(const Provenance& p) {
  std::string out = fmt::format("griffin {}\n", p.version);
  out += fmt::format("  git commit    {}{}\n", p.git_commit, p.git_dirty ? " (dirty)" : "");
  out += fmt::format("  torch         {}\n", p.torch_version);
  out += fmt::format("  compiler      {} ({})\n", p.compiler, p.build_type);
  out += fmt::format("  CUDA kernels  {}\n",
                     p.cuda_built ? fmt::format("built (CUDA {})", p.cuda_runtime) : "not built");
  if (!p.cuda_available) {
    out += "  CUDA device   none available (running on CPU)\n";
  } else {
    out += fmt::format("  CUDA driver   {}\n", p.driver);
    for (const GpuInfo& g : p.gpus) {
      out +=
          fmt::format("  GPU {}         {} (sm_{}{}, {} SMs, {:.1f} GiB, L2 {:.0f} MiB)\n", g.index,
                      g.name, g.sm_major, g.sm_minor, g.multiprocessors, g.memory_gib, g.l2_mib);
    }
  }
  return out;
}

}  // namespace griffin
