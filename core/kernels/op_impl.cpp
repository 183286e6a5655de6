#include "core/kernels/op_impl.h"

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>

namespace griffin {

OpImpl ParseOpImpl(std::string_view name) {
  if (name == "reference") return OpImpl::kReference;
  if (name == "cuda") return OpImpl::kCuda;
  throw std::invalid_argument(
      fmt::format("unknown op implementation '{}' (choices: reference, cuda)", name));
}

std::string_view OpImplName(OpImpl impl) {
  switch (impl) {
    case OpImpl::kReference:
      return "reference";
    case OpImpl::kCuda:
      return "cuda";
  }
  return "?";
}

bool OpImplBuilt(OpImpl impl) {
  switch (impl) {
    case OpImpl::kReference:
      return true;
    case OpImpl::kCuda:
#ifdef GRIFFIN_WITH_CUDA
      return true;
#else
      return false;
#endif
  }
  return false;
}

void ThrowNotBuilt(std::string_view op, OpImpl impl) {
  TORCH_CHECK(false, op, ": implementation '", OpImplName(impl),
              "' is not in this build (configured with GRIFFIN_CUDA=OFF)");
  std::abort();  // unreachable: TORCH_CHECK(false) throws
}

std::vector<OpImpl> BuiltOpImpls() {
  std::vector<OpImpl> impls;
  for (OpImpl impl : {OpImpl::kReference, OpImpl::kCuda}) {
    if (OpImplBuilt(impl)) impls.push_back(impl);
  }
  return impls;
}

}  // namespace griffin
