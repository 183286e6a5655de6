// Ops with several implementations (scan, conv1d, attention, decode step) are selected by name,
// so configs and benchmarks can compare them in one run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace griffin {

enum class OpImpl {
  kReference,  // ATen ops only: runs on any device, the numerical oracle for the kernels
  kCuda,       // the project's hand-written CUDA kernels
};

// "reference" | "cuda"; throws std::invalid_argument naming the bad value and the choices.
OpImpl ParseOpImpl(std::string_view name);
std::string_view OpImplName(OpImpl impl);

// True when this build carries the implementation (kCuda needs a GRIFFIN_CUDA build); whether a
// GPU is present is a separate, run-time question.
bool OpImplBuilt(OpImpl impl);
std::vector<OpImpl> BuiltOpImpls();

}  // namespace griffin
