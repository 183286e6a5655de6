// Ops with several implementations (scan, conv1d, attention, decode step) are selected by name,
// so configs and benchmarks can compare them in one run.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace griffin {

// The choice a config makes for the recurrence's ops (run.scan, run.conv). The RMSNorm and the
// training loss are not chosen: the model runs their kernels on any GPU (core/model/layers.cpp),
// so a model with `reference` ops on a GPU is ATen-only but for those two.
enum class OpImpl {
  kReference,  // ATen ops only: runs on any device, the numerical oracle for the kernels
  kCuda,       // the project's hand-written CUDA kernels
};

// Which implementation each multi-implementation op uses. With both `cuda`, a decode step's
// conv, gates and state update run as one fused kernel (core/model/recurrent_step.h).
struct OpChoice {
  OpImpl scan = OpImpl::kReference;  // the RG-LRU (gates and scan)
  OpImpl conv = OpImpl::kReference;  // the recurrent block's Conv1D
};

// "reference" | "cuda"; throws std::invalid_argument naming the bad value and the choices.
OpImpl ParseOpImpl(std::string_view name);
std::string_view OpImplName(OpImpl impl);

// True when this build carries the implementation (kCuda needs a GRIFFIN_CUDA build); whether a
// GPU is present is a separate, run-time question.
bool OpImplBuilt(OpImpl impl);
std::vector<OpImpl> BuiltOpImpls();

// Throws c10::Error "OP: implementation 'NAME' is not in this build (...)".
[[noreturn]] void ThrowNotBuilt(std::string_view op, OpImpl impl);

// The one switch from an implementation to its function, for every op: runs `reference` or `cuda`
// with `args`. `cuda` is GRIFFIN_CUDA_OP(fn): the function in a build with the kernels, null in one
// without, where asking for it throws, naming the op.
template <typename R, typename... Params, typename... Args>
R CallImpl(OpImpl impl, std::string_view op, R (*reference)(Params...),
           std::type_identity_t<R (*)(Params...)> cuda, Args&&... args) {
  R (*fn)(Params...) = impl == OpImpl::kCuda ? cuda : reference;
  if (fn == nullptr) ThrowNotBuilt(op, impl);
  return fn(std::forward<Args>(args)...);
}

#ifdef GRIFFIN_WITH_CUDA
#define GRIFFIN_CUDA_OP(fn) (&(fn))
#else
#define GRIFFIN_CUDA_OP(fn) nullptr
#endif

}  // namespace griffin
