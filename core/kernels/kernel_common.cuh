// What every ATen-free kernel file shares: the element type a launch carries (ScalarKind), one
// dispatch helper from that run-time kind (and from a run-time width) to compile-time types, whose
// default is an error, never a silent fallback. The ATen side of the same contract is
// launch_check.h (the one launch check) and op_impl.h (the one implementation switch).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <type_traits>

namespace griffin::kernels {

enum class ScalarKind { kFloat32, kBFloat16, kFloat64 };

inline int64_t ElementBytes(ScalarKind kind) {
  return kind == ScalarKind::kBFloat16 ? 2 : kind == ScalarKind::kFloat32 ? 4 : 8;
}

template <typename T>
struct Tag {
  using type = T;
};

// Calls fn(Tag<T>{}, Tag<Acc>{}) for the element type of `kind` and its accumulation type (float
// for float32 and bfloat16, double for float64) and returns what fn returns. A kind this helper
// does not list is cudaErrorInvalidValue. An op that lacks one type answers
// cudaErrorInvalidValue from fn for it (if constexpr), so nothing is compiled for it.
template <typename Fn>
cudaError_t DispatchScalar(ScalarKind kind, Fn&& fn) {
  switch (kind) {
    case ScalarKind::kFloat32:
      return fn(Tag<float>{}, Tag<float>{});
    case ScalarKind::kBFloat16:
      return fn(Tag<__nv_bfloat16>{}, Tag<float>{});
    case ScalarKind::kFloat64:
      return fn(Tag<double>{}, Tag<double>{});
  }
  return cudaErrorInvalidValue;
}

// Calls fn(std::integral_constant<int, W>{}) for W == width in [1, kMax]; any other width is
// cudaErrorInvalidValue (the ops' checks reject it first, with a message).
template <int kMax, int W = 1, typename Fn>
cudaError_t DispatchWidth(int width, Fn&& fn) {
  if constexpr (W > kMax) {
    return cudaErrorInvalidValue;
  } else {
    if (width == W) return fn(std::integral_constant<int, W>{});
    return DispatchWidth<kMax, W + 1>(width, fn);
  }
}

}  // namespace griffin::kernels
