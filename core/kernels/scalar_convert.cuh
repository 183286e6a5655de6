// Conversions between a kernel's element type (float, bfloat16, double) and its accumulation
// type, shared by the chunked scans, the Conv1D and the fused decode step.
#pragma once

#include <cuda_bf16.h>

#include <type_traits>

namespace griffin::kernels {

template <typename Acc, typename T>
__device__ __forceinline__ Acc ToAcc(T v) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return static_cast<Acc>(__bfloat162float(v));
  } else {
    return static_cast<Acc>(v);
  }
}

template <typename T, typename Acc>
__device__ __forceinline__ T FromAcc(Acc v) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

}  // namespace griffin::kernels
